/**
 * Test-side tools for the sandbox suite: a signed HTTP call written independently of any gateway client
 * (only the pure signRequest is shared), a webhook receiver, and small flows (quote → execute).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach } from 'vitest';
import { signRequest } from '../../src/zopay/sign.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const pending = cleanups.splice(0);
  await Promise.all(pending.map((c) => c()));
});

/** A sandbox closed automatically after the current test. */
export async function sandboxFor(opts: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({ port: 0, ...opts });
  cleanups.push(() => sb.close());
  return sb;
}

/** A settable clock for `now`, starting at a whole second. */
export function manualClock(startMs = Date.UTC(2026, 0, 15, 10, 0, 0)) {
  const clock = { t: startMs, now: () => clock.t, advance: (ms: number) => void (clock.t += ms) };
  return clock;
}

export interface Call {
  method?: 'GET' | 'POST' | 'PUT';
  path: string;
  query?: Record<string, string>;
  /** Serialised with JSON.stringify once; that exact string is signed and sent. */
  body?: unknown;
  /** Sent verbatim instead of `body`. */
  rawBody?: string;
  /** What the signature covers, when a test wants it to differ from what is sent. */
  signedBody?: string;
  /** Signed query, when it must differ from the sent one. */
  signedQuery?: Record<string, string>;
  timestampSec?: number;
  nonce?: string;
  origin?: string;
  key?: string;
  secret?: string;
  version?: string;
  signature?: string;
  /** Header names to leave out. */
  omit?: string[];
  /** Abort the call after this many ms (the client "gives up"). */
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: Record<string, unknown>;
}

export function signedHeaders(c: Call, nowMs = Date.now()): Record<string, string> {
  const body = c.signedBody ?? wireBody(c);
  const timestamp = String(c.timestampSec ?? Math.floor(nowMs / 1000));
  const nonce = c.nonce ?? randomUUID();
  const origin = c.origin ?? SANDBOX_DEFAULTS.origin;
  const signature =
    c.signature ??
    signRequest(
      { method: c.method ?? 'GET', path: c.path, query: c.signedQuery ?? c.query, body, timestamp, nonce, origin },
      c.secret ?? SANDBOX_DEFAULTS.apiSecret,
    );
  const headers: Record<string, string> = {
    'x-zo-key': c.key ?? SANDBOX_DEFAULTS.apiKey,
    'x-zo-timestamp': timestamp,
    'x-zo-nonce': nonce,
    'x-zo-origin': origin,
    'x-zo-signature': signature,
    'x-zo-version': c.version ?? '1.0',
  };
  if (wireBody(c) !== '') headers['content-type'] = 'application/json';
  for (const name of c.omit ?? []) delete headers[name];
  return headers;
}

function wireBody(c: Call): string {
  if (c.rawBody !== undefined) return c.rawBody;
  return c.body === undefined ? '' : JSON.stringify(c.body);
}

/** A signed request to the sandbox; `nowMs` is the signer's clock (default the real one). */
export async function call(sb: { url: string }, c: Call, nowMs?: number): Promise<CallResult> {
  const qs = c.query ? `?${new URLSearchParams(c.query).toString()}` : '';
  const body = wireBody(c);
  const res = await request(`${sb.url}${c.path}${qs}`, {
    method: c.method ?? 'GET',
    headers: signedHeaders(c, nowMs),
    body: body === '' ? undefined : body,
    signal: c.timeoutMs === undefined ? undefined : AbortSignal.timeout(c.timeoutMs),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: flat(res.headers), text, json: parseJson(text) };
}

/** An unsigned request (control API, unknown paths). */
export async function plain(sb: { url: string }, method: string, path: string, body?: unknown): Promise<CallResult> {
  const res = await request(`${sb.url}${path}`, {
    method: method as 'GET',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: flat(res.headers), text, json: parseJson(text) };
}

function parseJson(text: string): Record<string, unknown> {
  if (!text) return {};
  const v: unknown = JSON.parse(text);
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { value: v };
}

/** Reads a nested field of a parsed JSON body: at(json, 'payout', 'status'). */
export function at(value: unknown, ...path: Array<string | number>): unknown {
  let v = value;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

function flat(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export const MTN = {
  success: '+237670000001',
  success2: '+237670000002',
  insufficientFunds: '+237670000003',
  declined: '+237670000004',
  pending: '+237670000005',
} as const;
export const ORANGE_SUCCESS = '+237690000001';

export interface QuoteInput {
  msisdn?: string;
  amount?: string;
  currency?: string;
  gateway?: 'MTN_MOMO' | 'ORANGE_MONEY';
}

export function quoteBody(q: QuoteInput = {}) {
  const msisdn = q.msisdn ?? MTN.success;
  return {
    gateway: q.gateway ?? (msisdn.startsWith('+23769') ? 'ORANGE_MONEY' : 'MTN_MOMO'),
    transaction_type: 'DISBURSEMENT',
    amount: q.amount ?? '5000',
    currency: q.currency ?? 'XAF',
    recipient: { msisdn },
  };
}

export async function createQuote(sb: Sandbox, q: QuoteInput = {}, nowMs?: number): Promise<string> {
  const r = await call(sb, { method: 'POST', path: '/api/v1/disbursements/quote', body: quoteBody(q) }, nowMs);
  if (r.status !== 200) throw new Error(`quote failed: ${r.status} ${r.text}`);
  return String(r.json['quote_id']);
}

export function execute(sb: Sandbox, quoteId: string, key: string, msisdn: string, nowMs?: number, extra: Partial<Call> = {}) {
  return call(
    sb,
    { method: 'POST', path: '/api/v1/disbursements/execute', body: { quote_id: quoteId, idempotency_key: key, recipient: { msisdn } }, ...extra },
    nowMs,
  );
}

/** Quote then execute; returns the payout id. */
export async function payout(sb: Sandbox, q: QuoteInput = {}, nowMs?: number): Promise<string> {
  const msisdn = q.msisdn ?? MTN.success;
  const quoteId = await createQuote(sb, { ...q, msisdn }, nowMs);
  const r = await execute(sb, quoteId, randomUUID(), msisdn, nowMs);
  if (r.status !== 200) throw new Error(`execute failed: ${r.status} ${r.text}`);
  return String(r.json['payout_id']);
}

export function getPayout(sb: Sandbox, id: string, nowMs?: number) {
  return call(sb, { path: `/api/v1/disbursements/${encodeURIComponent(id)}` }, nowMs);
}

export async function waitUntil(cond: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface ReceivedWebhook {
  at: number;
  headers: Record<string, string>;
  rawBody: string;
}

/** A node:http webhook endpoint; `respond(n)` picks the status of the n-th request (0-based), or 'hang'. */
export async function webhookReceiver(respond: (n: number) => number | 'hang' = () => 200) {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.length;
      received.push({ at: Date.now(), headers: flat(req.headers), rawBody: Buffer.concat(chunks).toString('utf8') });
      const status = respond(n);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  cleanups.push(close);
  return { url: `http://127.0.0.1:${port}/webhooks/zopay`, received, close };
}
