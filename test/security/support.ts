/**
 * Helpers for the attack suite: a production-mode stack with known secrets and captured logs, side-effect
 * probes (upstream request log, Redis writes, health), raw HTTP, raw graphql-ws and SSE clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import { readSseFrames } from '../helpers/sse.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { mintToken } from '../../src/auth/tokens.js';
import { createLogger } from '../../src/lib/logger.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';
import { EXECUTE, QUOTE, gql, quoteInput, type GraphQLResponse } from '../helpers/gateway.js';
import { fileURLToPath } from 'node:url';

/** Production credentials of the suite: none may ever appear in a log line or a client-visible error. */
export const SECRETS = {
  apiKey: 'zo_live_key_SECSUITE_a9f3c2e1d7',
  apiSecret: 'zo_live_secret_SECSUITE_7c1e9b3a5d2f4e6a8b0c',
  webhookSecret: 'whsec_SECSUITE_0f9e8d7c6b5a49382716a5b4c3d2e1f0',
  jwtSecret: 'secsuite-jwt-secret-3e7a1c9b5d2f8e4a6c0b',
  origin: 'https://merchant.secsuite.example',
} as const;

/** The sandbox test numbers used by the suite (full MSISDNs must never be logged). */
export const MSISDN_OK = '+237670000001';
export const MSISDN_PENDING = '+237670000005';

/** Collects pino's JSON lines. */
export class LogCapture {
  readonly lines: string[] = [];
  write(msg: string): void {
    this.lines.push(msg);
  }
  text(): string {
    return this.lines.join('');
  }
  records(): Record<string, unknown>[] {
    return this.text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface SecureStack {
  sandbox: Sandbox;
  gateways: Gateway[];
  gateway: Gateway;
  url: string;
  config: Config;
  logs: LogCapture;
  token(sub: string, scope?: string, expiresInSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * NODE_ENV=production, real-looking ZoPay credentials (the sandbox accepts the same ones), HS256 client
 * auth, and every gateway logging into one capture at `logLevel` (default trace: the audit wants it all).
 */
/** A production configuration with the suite's credentials: everything production requires, set. */
export function productionEnv(zopayBaseUrl = 'https://api.zopay.example'): Record<string, string> {
  return {
    NODE_ENV: 'production',
    ZOPAY_BASE_URL: zopayBaseUrl,
    ZOPAY_API_KEY: SECRETS.apiKey,
    ZOPAY_API_SECRET: SECRETS.apiSecret,
    ZOPAY_WEBHOOK_SECRET: SECRETS.webhookSecret,
    ZOPAY_ORIGIN: SECRETS.origin,
    AUTH_JWT_SECRET: SECRETS.jwtSecret,
  };
}

export async function startSecureStack(
  opts: { env?: Record<string, string>; instances?: number; sandbox?: SandboxOptions; logLevel?: string } = {},
): Promise<SecureStack> {
  const sandbox = await startSandbox({
    port: 0,
    rateLimitPerMinute: 100_000,
    webhookUrl: null,
    apiKey: SECRETS.apiKey,
    apiSecret: SECRETS.apiSecret,
    webhookSecret: SECRETS.webhookSecret,
    allowedOrigins: [SECRETS.origin],
    ...opts.sandbox,
  });
  const logs = new LogCapture();
  const config = loadConfig({
    ...productionEnv(sandbox.url),
    PORT: '0',
    LOG_LEVEL: 'trace',
    RECONCILE_INTERVAL_MS: '600000',
    ZOPAY_OPERATION_DEADLINE_MS: '4000',
    ZOPAY_REQUEST_TIMEOUT_MS: '2000',
    ZOPAY_RATE_LIMIT_PER_MINUTE: '100000',
    SHUTDOWN_DRAIN_MS: '0',
    ...opts.env,
  });
  const gateways: Gateway[] = [];
  try {
    for (let i = 0; i < (opts.instances ?? 1); i++) {
      const log = createLogger({ level: opts.logLevel ?? 'trace', destination: logs, base: { instance: i } });
      gateways.push(await startGateway({ config, zopayBaseUrl: sandbox.url, log }));
    }
  } catch (err) {
    await Promise.all(gateways.map((g) => g.close()));
    await sandbox.close();
    throw err;
  }
  const gateway = gateways[0] as Gateway;
  if (opts.sandbox?.webhookUrl === undefined) sandbox.setWebhookUrl(`${gateway.url}/webhooks/zopay`);
  return {
    sandbox,
    gateways,
    gateway,
    url: gateway.url,
    config,
    logs,
    token: (sub, scope = 'payouts:write', expiresInSeconds = 3600) => mintToken(SECRETS.jwtSecret, { sub, scope, expiresInSeconds }),
    close: async () => {
      await Promise.all(gateways.map((g) => g.close()));
      await sandbox.close();
    },
  };
}

/** Quote then execute through the gateway; returns the payout id. */
export async function payVia(url: string, token: string, key: string, msisdn = MSISDN_PENDING): Promise<string> {
  const q = await gql<{ createQuote: { id: string } }>(url, QUOTE, quoteInput(msisdn), token);
  const quoteId = q.data?.createQuote.id;
  if (!quoteId) throw new Error(`quote failed: ${JSON.stringify(q)}`);
  const e = await gql<{ executeDisbursement: { id: string } }>(url, EXECUTE, { input: { quoteId, idempotencyKey: key, recipient: { msisdn } } }, token);
  const id = e.data?.executeDisbursement.id;
  if (!id) throw new Error(`execute failed: ${JSON.stringify(e)}`);
  return id;
}

export async function quoteVia(url: string, token: string, msisdn = MSISDN_OK): Promise<string> {
  const q = await gql<{ createQuote: { id: string } }>(url, QUOTE, quoteInput(msisdn), token);
  const quoteId = q.data?.createQuote.id;
  if (!quoteId) throw new Error(`quote failed: ${JSON.stringify(q)}`);
  return quoteId;
}

export function firstCode(res: { errors?: { extensions?: Record<string, unknown> }[] }): unknown {
  return res.errors?.[0]?.extensions?.['code'];
}

/** True when /healthz answers 200: the process survived the attack. */
export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Redis: every command the gateway runs, through MONITOR, so "no write" is exact rather than sampled.

const READ_ONLY = new Set([
  'get', 'mget', 'hget', 'hmget', 'hgetall', 'hexists', 'exists', 'ttl', 'pttl', 'type', 'strlen',
  'zrange', 'zrevrange', 'zrangebyscore', 'zrevrangebyscore', 'zcard', 'zscore', 'zcount', 'smembers',
  'sismember', 'scard', 'lrange', 'llen', 'keys', 'scan', 'dbsize', 'ping', 'echo', 'info', 'config',
  'client', 'select', 'pubsub', 'time', 'hello', 'auth', 'command', 'evalsha_ro', 'eval_ro', 'script', 'monitor', 'hmget',
  // A script is judged by the commands it runs, which MONITOR shows one by one.
  'eval', 'evalsha',
]);

export interface RedisWatch {
  /** Write commands (anything not read-only) the gateway ran since the last `mark()`. */
  writesSinceMark(): Promise<string[]>;
  mark(): Promise<void>;
  /** `KEYS prefix*`, sorted. */
  keys(prefix?: string): Promise<string[]>;
  dbsize(): Promise<number>;
  close(): Promise<void>;
}

export async function watchRedis(url: string): Promise<RedisWatch> {
  const probe = new Redis(url, { maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  const monitorClient = new Redis(url, { maxRetriesPerRequest: 1 });
  monitorClient.on('error', () => undefined);
  const monitor = await monitorClient.monitor();
  monitor.on('error', () => undefined);
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
  let from = 0;
  let n = 0;
  /** Waits until MONITOR has shown a marker sent now: every earlier command has been seen. */
  const sync = async (): Promise<number> => {
    const marker = `secsuite-sync-${++n}-${Date.now()}`;
    await probe.echo(marker);
    const end = Date.now() + 2_000;
    for (;;) {
      const idx = seen.findIndex((a) => a[0]?.toLowerCase() === 'echo' && a[1] === marker);
      if (idx >= 0) return idx;
      if (Date.now() > end) throw new Error('MONITOR did not show the sync marker');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    async mark() {
      from = (await sync()) + 1;
    },
    async writesSinceMark() {
      const upTo = await sync();
      return seen
        .slice(from, upTo)
        .filter((a) => !READ_ONLY.has((a[0] ?? '').toLowerCase()))
        .map((a) => a.map((s) => (s.length > 60 ? `${s.slice(0, 60)}…` : s)).join(' '));
    },
    keys: async (prefix = 'zopay:') => (await probe.keys(`${prefix}*`)).sort(),
    dbsize: () => probe.dbsize(),
    async close() {
      monitor.disconnect();
      monitorClient.disconnect();
      probe.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Raw HTTP (exact headers, chunked bodies).

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request through node:http. `chunks` (without a content-length) goes out with Transfer-Encoding:
 * chunked; the function stops writing as soon as the server answers (a 413 mid-upload).
 */
export function rawRequest(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Iterable<Buffer> },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path ?? '/graphql', url);
    let answered = false;
    const req = httpRequest(u, { method: opts.method ?? 'POST', headers: opts.headers ?? {}, agent: false }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (opts.chunks) {
      const it = opts.chunks[Symbol.iterator]();
      const pump = () => {
        while (!answered) {
          const next = it.next();
          if (next.done) return void req.end();
          if (!req.write(next.value)) return void req.once('drain', pump);
        }
        req.destroy();
      };
      req.on('error', () => undefined);
      pump();
    } else {
      req.end(opts.body);
    }
  });
}

/** `total` bytes of a JSON body, in 64 KB chunks, generated lazily (nothing big is held in memory). */
export function* jsonChunks(total: number): Generator<Buffer> {
  const head = Buffer.from('{"query":"{ __typename }","variables":{"pad":"');
  yield head;
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = total - head.length - 3;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    yield n === chunk.length ? chunk : chunk.subarray(0, n);
    left -= n;
  }
  yield Buffer.from('"}}');
}

// ---------------------------------------------------------------------------------------------------
// graphql-ws by hand: exact frames in, every frame and the close code/reason out.

export interface RawWs {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  /** Resolves with the first message matching, or rejects on close/timeout. */
  next(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** `protocol: null` asks for no subprotocol at all. */
export async function rawWs(url: string, protocol: string | null = 'graphql-transport-ws'): Promise<RawWs> {
  const target = url.replace(/^http/, 'ws') + '/graphql';
  const socket = protocol === null ? new WebSocket(target) : new WebSocket(target, protocol);
  const messages: Record<string, unknown>[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('error', () => undefined);
  socket.on('message', (data: Buffer) => {
    try {
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    } catch {
      messages.push({ type: 'unparseable', raw: data.toString() });
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next: async (predicate, timeoutMs = 5_000) => {
      const end = Date.now() + timeoutMs;
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      for (;;) {
        const m = messages.find(predicate);
        if (m) return m;
        if (isClosed) throw new Error(`socket closed before the expected message; got ${JSON.stringify(messages)}`);
        if (Date.now() > end) throw new Error(`no expected message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => socket.close(),
  };
}

/** An acknowledged graphql-ws connection for `token` (or a rejected one: check `closed`). */
export async function ackedWs(url: string, token: string): Promise<RawWs> {
  const ws = await rawWs(url);
  ws.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await ws.next((m) => m['type'] === 'connection_ack');
  return ws;
}

/** Runs one operation over an acked socket; resolves with its errors (the `error` frame) or its first result. */
export async function wsOperation(
  ws: RawWs,
  id: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ type: 'next' | 'error'; errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown }> {
  ws.send({ id, type: 'subscribe', payload: { query, variables } });
  const m = await ws.next((x) => x['id'] === id && (x['type'] === 'next' || x['type'] === 'error'));
  if (m['type'] === 'error') return { type: 'error', errors: m['payload'] as { message: string; extensions?: Record<string, unknown> }[] };
  const payload = m['payload'] as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { type: 'next', ...payload };
}

// ---------------------------------------------------------------------------------------------------
// SSE (Yoga's distinct-connections mode) with an optional token, collecting every `next` payload.

export interface SseStream {
  status: Promise<number>;
  payloads: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[];
  /** 'complete' when the server ended the stream (an `event: complete` or end of body). */
  done: Promise<'complete' | 'error'>;
  close(): void;
}

export function sse(url: string, query: string, variables: Record<string, unknown>, token?: string): SseStream {
  const payloads: SseStream['payloads'] = [];
  const abort = new AbortController();
  let setStatus: (n: number) => void = () => undefined;
  const status = new Promise<number>((r) => (setStatus = r));
  const done = (async (): Promise<'complete' | 'error'> => {
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      setStatus(res.status);
      if (!res.body) return 'complete';
      return await readSseFrames(res.body, (payload) => payloads.push(payload as SseStream['payloads'][number]));
    } catch {
      setStatus(0);
      return 'error';
    }
  })();
  return { status, payloads, done, close: () => abort.abort() };
}

export { gql, type GraphQLResponse };

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Writes `head` (request line and headers, without the blank line) and `body` on a bare TCP socket and
 * returns whatever the server sends back before closing or within `timeoutMs`. Used to declare a huge
 * Content-Length and send none of it: the answer must come without the body.
 */
export function rawSocketRequest(url: string, head: string, body = '', timeoutMs = 3_000): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port) });
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      // One complete response is enough.
      const m = /\r\ncontent-length: (\d+)\r\n/i.exec(out);
      const bodyStart = out.indexOf('\r\n\r\n');
      if (m && bodyStart >= 0 && Buffer.byteLength(out.slice(bodyStart + 4)) >= Number(m[1])) {
        clearTimeout(timer);
        socket.destroy();
        resolve(out);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

// ---------------------------------------------------------------------------------------------------
// The real process: `tsx src/main.ts` in production mode against a sandbox, for signal handling tests.

export interface GatewayProcess {
  child: ChildProcess;
  /** Base URL (without /graphql). */
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL unless it already exited. */
  kill(): void;
}

export async function spawnGatewayProcess(sandboxUrl: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const child = spawn(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      LOG_LEVEL: 'info',
      ZOPAY_BASE_URL: sandboxUrl,
      ZOPAY_API_KEY: SECRETS.apiKey,
      ZOPAY_API_SECRET: SECRETS.apiSecret,
      ZOPAY_WEBHOOK_SECRET: SECRETS.webhookSecret,
      ZOPAY_ORIGIN: SECRETS.origin,
      AUTH_JWT_SECRET: SECRETS.jwtSecret,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => /"msg":"zopay-gateway listening"/.test(output), 20_000, `the gateway to listen; output so far: ${output}`);
  const line = output.split('\n').find((l) => l.includes('zopay-gateway listening')) as string;
  return {
    child,
    url: (JSON.parse(line) as { url: string }).url.replace(/\/graphql$/, ''),
    output: () => output,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
