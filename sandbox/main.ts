/** `npm run sandbox`: read the environment, start the simulator, stop cleanly on SIGINT/SIGTERM. */
import { loadSandboxConfig } from './config.js';
import { startSandbox } from './index.js';

const config = loadSandboxConfig(process.env);
if (!config.ok) {
  console.error(`Invalid sandbox configuration:\n${config.problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}

const log = (line: string) => console.log(`${new Date().toISOString()} [zopay-sandbox] ${line}`);
const sandbox = await startSandbox({ ...config.options, log }).catch((err: unknown) => {
  console.error(`Could not start the sandbox: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, closing`);
  sandbox.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// Handlers first, then the start-up lines: whoever waits for them may signal us right away.
const o = config.options;
log(`api key ${o.apiKey}, allowed origins ${(o.allowedOrigins ?? []).join(', ')}`);
log(`webhooks -> ${o.webhookUrl ?? 'off'}, time scale ${o.timeScale}, rate limit ${o.rateLimitPerMinute}/min`);
log(`control API at ${sandbox.url}/__sandbox (see sandbox/README.md)`);
