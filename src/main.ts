/**
 * Process entry: config → (embedded sandbox when no ZOPAY_BASE_URL) → gateway → listen; SIGTERM/SIGINT
 * stop it cleanly. The sandbox is loaded lazily, here only: nothing else in src/ imports it.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startGateway, type Gateway } from './gateway.js';
import { createLogger } from './lib/logger.js';

export interface Running {
  gateway: Gateway;
  sandboxUrl: string | undefined;
  stop(): Promise<void>;
}

interface SandboxModule {
  startSandbox(opts: {
    port: number;
    host: string;
    apiKey: string;
    apiSecret: string;
    allowedOrigins: string[];
    webhookSecret: string;
    timeScale: number;
    webhookUrl: string | null;
  }): Promise<EmbeddedSandbox>;
}

interface EmbeddedSandbox {
  url: string;
  setWebhookUrl(url: string): void;
  close(): Promise<void>;
}

async function startEmbeddedSandbox(config: Config): Promise<EmbeddedSandbox> {
  const modulePath = '../sandbox/index.js';
  const { startSandbox } = (await import(modulePath)) as SandboxModule;
  return startSandbox({
    port: config.sandbox.port,
    host: '127.0.0.1',
    apiKey: config.zopay.apiKey,
    apiSecret: config.zopay.apiSecret,
    allowedOrigins: [config.zopay.origin],
    webhookSecret: config.zopay.webhookSecrets[0] as string,
    timeScale: config.sandbox.timeScale,
    webhookUrl: null,
  });
}

/** Starts everything `npm start` runs. Exported so a test can run exactly this code path. */
export async function run(config: Config): Promise<Running> {
  const sandbox = config.zopay.baseUrl
    ? undefined
    : await startEmbeddedSandbox(config).catch((err: unknown) => {
        throw portTaken(err, 'the embedded sandbox', config.sandbox.port, 'SANDBOX_PORT') ?? err;
      });
  const baseUrl = config.zopay.baseUrl ?? (sandbox as EmbeddedSandbox).url;
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config, zopayBaseUrl: baseUrl });
  } catch (err) {
    await sandbox?.close();
    throw portTaken(err, 'the gateway', config.port, 'PORT') ?? err;
  }
  sandbox?.setWebhookUrl(`${gateway.url}/webhooks/zopay`);
  return {
    gateway,
    sandboxUrl: sandbox?.url,
    stop: async () => {
      await gateway.close();
      await sandbox?.close();
    },
  };
}

/** A listen that failed because the port is taken, said with the setting that moves it. */
function portTaken(err: unknown, what: string, port: number, variable: string): Error | undefined {
  if (!(err instanceof Error) || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') return undefined;
  return new Error(`port ${port} (${what}) is already in use: stop what holds it, or choose another port with ${variable}=<port>`, { cause: err });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const running = await run(config);
  const { gateway } = running;
  log.info({ url: `${gateway.url}/graphql`, sandbox: running.sandboxUrl ?? null, redis: Boolean(config.redis.url) }, 'zopay-gateway listening');
  if (gateway.devToken) {
    console.log(`\n  GraphiQL:   ${gateway.url}/graphql`);
    if (running.sandboxUrl) console.log(`  Sandbox:    ${running.sandboxUrl} (embedded ZoPay simulator)`);
    console.log(`  Dev token (payouts:write payouts:read, 12 h, pre-filled in GraphiQL):\n\n  ${gateway.devToken}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const exit = (code: number) => {
      log.flush();
      running.gateway.log.flush();
      process.exit(code);
    };
    running.stop().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error('fatal:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
