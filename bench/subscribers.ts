/**
 * The subscriber fleet: every WebSocket client of the subscription scenarios, and the webhook sender, in
 * one process of their own, so the runner's event loop never handles thousands of sockets, the time a
 * webhook is sent and the times its events arrive are read on one clock, and the gateway and the raw
 * `ws` baseline are measured by exactly the same client code.
 *
 * Each client is a plain `ws` WebSocket speaking graphql-transport-ws (connection_init with
 * `{authorization: "Bearer <token>"}` → connection_ack → subscribe), authenticated as a caller of its
 * own (`payouts:read`, a distinct `sub`). The hot path of a frame is: read the clock, keep the raw bytes,
 * count down. Frames are parsed and checked only after an operation's frames have all arrived (or its
 * time is up), so checking them costs nothing inside a measured window; every frame is checked then.
 *
 * The runner drives it over HTTP (lib/fleet-protocol.ts): connect, subscribe, fire (signed webhooks,
 * open loop), status, close. Run as a child by bench/run.ts (FLEET_JWT_SECRET, FLEET_WEBHOOK_SECRET;
 * PORT optional).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/tokens.js';
import { SCOPES } from '../src/auth/viewer.js';
import { announceReady, exitWithParent, loopBlockWindow, requiredEnv } from './lib/child.js';
import {
  FLEET_PATHS,
  type CloseResult,
  type ConnectRequest,
  type ConnectResult,
  type FiredEvent,
  type FireRequest,
  type FireResult,
  type FleetStatus,
  type SubscribeRequest,
  type SubscribeResult,
} from './lib/fleet-protocol.js';
import { closeServer, listen, readBody, sendJson, serve } from './lib/http-server.js';
import { completedDelivery } from './lib/webhook.js';
import { FANOUT_AMOUNT, FANOUT_CURRENCY, GRAPHQL_TRANSPORT_WS, processingFields, subscribeFrame } from './lib/ws-protocol.js';

/** Problems of one kind: counted, the first few kept verbatim. */
class Problems {
  private readonly kinds = new Map<string, { count: number; samples: string[] }>();

  add(kind: string, detail: string): void {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { count: 0, samples: [] };
      this.kinds.set(kind, k);
    }
    k.count++;
    if (k.samples.length < 3) k.samples.push(detail.slice(0, 400));
  }

  list(): string[] {
    return [...this.kinds].map(([kind, k]) => `${k.count}× ${kind}: ${k.samples.join(' | ')}`);
  }
}

interface Sub {
  id: string;
  payoutId: string;
  sent?: boolean;
  snapshotAt?: number;
  finalAt?: number;
  completeAt?: number;
}

interface Client {
  index: number;
  ws: WebSocket;
  acked: boolean;
  open: boolean;
  /** We asked it to close: its close is not a failure. */
  closing: boolean;
  closed: Promise<void>;
  pings: number;
  seq: number;
  subs: Map<string, Sub>;
  /** Arrival time and raw bytes of every frame since the last operation looked. */
  times: number[];
  frames: Buffer[];
}

const jwtSecret = requiredEnv('FLEET_JWT_SECRET');
const webhookSecret = requiredEnv('FLEET_WEBHOOK_SECRET');

let clients: Client[] = [];
const tokens = new Map<string, string>();
const pools = new Map<string, Pool>();
/** Closes and errors we did not ask for, not yet reported by an operation. */
const unreported: { kind: string; detail: string }[] = [];
let everClosedEarly = 0;
let everErrored = 0;

// The countdown of the operation in progress: frames still expected, and who to wake at zero.
let remaining = 0;
let wake: ((why: WaitOutcome) => void) | undefined;
type WaitOutcome = 'done' | 'timeout' | 'closed';

function frameArrived(): void {
  if (--remaining === 0 && wake) wake('done');
}

function waitFrames(timeoutMs: number): Promise<WaitOutcome> {
  if (remaining <= 0) return Promise.resolve('done');
  return new Promise((resolve) => {
    let closedTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const finish = (why: WaitOutcome) => {
      clearTimeout(timer);
      clearTimeout(closedTimer);
      wake = undefined;
      resolve(why);
    };
    wake = (why) => {
      // A client closed early: its frames will never come. Give the others a moment, then stop waiting.
      if (why === 'closed') closedTimer ??= setTimeout(() => finish('closed'), 1_000);
      else finish(why);
    };
  });
}

const toText = (data: WebSocket.RawData): string =>
  Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');

interface Frame {
  id?: unknown;
  type?: unknown;
  payload?: unknown;
}

function parseFrame(text: string): Frame | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Frame) : undefined;
  } catch {
    return undefined;
  }
}

async function tokensFor(prefix: string, count: number): Promise<string[]> {
  const subs = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const missing = subs.filter((s) => !tokens.has(s));
  for (let i = 0; i < missing.length; i += 500) {
    await Promise.all(
      missing.slice(i, i + 500).map(async (sub) => {
        tokens.set(sub, await mintToken(jwtSecret, { sub, scope: SCOPES.READ, expiresInSeconds: 24 * 3_600 }));
      }),
    );
  }
  return subs.map((s) => tokens.get(s) as string);
}

function openClient(url: string, index: number, token: string, timeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    // No compression (the gateway does not offer it); no UTF-8 validation in the hot path (every frame is
    // JSON-parsed and checked afterwards).
    const ws = new WebSocket(url, GRAPHQL_TRANSPORT_WS, { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
    let markClosed: () => void = () => undefined;
    const c: Client = {
      index,
      ws,
      acked: false,
      open: false,
      closing: false,
      closed: new Promise<void>((r) => (markClosed = r)),
      pings: 0,
      seq: 0,
      subs: new Map(),
      times: [],
      frames: [],
    };
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`no connection_ack within ${timeoutMs} ms`), timeoutMs);
    ws.on('open', () => {
      c.open = true;
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    });
    ws.on('message', (data) => {
      const t = performance.now();
      if (c.acked) {
        c.times.push(t);
        c.frames.push(data as Buffer);
        frameArrived();
        return;
      }
      const text = toText(data);
      if (parseFrame(text)?.type !== 'connection_ack') return fail(`expected connection_ack, got ${text.slice(0, 300)}`);
      c.acked = true;
      settled = true;
      clearTimeout(timer);
      resolve(c);
    });
    ws.on('ping', () => {
      c.pings++;
    });
    ws.on('error', (err) => {
      if (!settled) return fail(`socket error: ${err.message}`);
      if (c.closing) return;
      everErrored++;
      unreported.push({ kind: 'socket error', detail: `client ${index}: ${err.message}` });
    });
    ws.on('close', (code, reason) => {
      c.open = false;
      markClosed();
      if (!settled) return fail(`closed before connection_ack: ${code} ${reason.toString()}`);
      if (c.closing) return;
      everClosedEarly++;
      unreported.push({ kind: 'connection closed by the server', detail: `client ${index}: ${code} ${reason.toString()}` });
      wake?.('closed');
    });
  });
}

/** Reports what happened since the last operation: early closes, errors, frames nobody expected. */
function takeUnexpected(problems: Problems, when: string): number {
  for (const u of unreported.splice(0)) problems.add(u.kind, u.detail);
  let stray = 0;
  for (const c of clients) {
    for (const f of c.frames) {
      stray++;
      problems.add(`frame received ${when}`, `client ${c.index}: ${toText(f)}`);
    }
    c.frames = [];
    c.times = [];
  }
  return stray;
}

async function connect(req: ConnectRequest): Promise<ConnectResult> {
  if (clients.length > 0) throw new Error(`${clients.length} clients are still connected: close them first`);
  const problems = new Problems();
  unreported.length = 0;
  const toks = await tokensFor(req.subPrefix, req.count);
  const started = performance.now();
  const deadline = started + req.timeoutMs;
  const opened: Client[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < req.count) {
      const i = next++;
      const left = deadline - performance.now();
      if (left <= 0) {
        failed++;
        problems.add('not connected: the connect phase timed out', `client ${i}`);
        continue;
      }
      try {
        opened.push(await openClient(req.url, i, toks[i] as string, Math.min(left, 30_000)));
      } catch (err) {
        failed++;
        problems.add('connect failed', `client ${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(req.concurrency, req.count)) }, worker));
  clients = opened.sort((a, b) => a.index - b.index);
  const ms = performance.now() - started;
  takeUnexpected(problems, 'right after connection_ack');
  return { connected: clients.length, failed, ms, problems: problems.list() };
}

async function subscribe(req: SubscribeRequest): Promise<SubscribeResult> {
  const problems = new Problems();
  takeUnexpected(problems, 'before subscribe');
  if (req.payoutIds.length === 0) throw new Error('no payouts to subscribe to');
  const plan: { c: Client; subs: Sub[]; frames: string[] }[] = [];
  let total = 0;
  for (const c of clients) {
    if (!c.open) {
      problems.add('client not open at subscribe', `client ${c.index}`);
      continue;
    }
    const ids = req.mode === 'all' ? req.payoutIds : [req.payoutIds[c.index % req.payoutIds.length] as string];
    const subs: Sub[] = ids.map((payoutId) => ({ id: `s${++c.seq}`, payoutId }));
    plan.push({ c, subs, frames: subs.map((s) => subscribeFrame(s.id, s.payoutId)) });
    total += subs.length;
  }
  const t0 = performance.now();
  const deadline = t0 + req.timeoutMs;
  const wave = Math.max(1, req.wave ?? total);
  let outcome: WaitOutcome = 'done';
  for (let i = 0; i < plan.length && outcome === 'done'; ) {
    // One wave: whole clients, up to `wave` subscriptions (at least one client).
    const batch: typeof plan = [];
    let count = 0;
    while (i < plan.length && (batch.length === 0 || count + (plan[i] as (typeof plan)[number]).subs.length <= wave)) {
      const p = plan[i++] as (typeof plan)[number];
      batch.push(p);
      count += p.subs.length;
    }
    remaining = count;
    for (const { c, subs, frames } of batch) {
      subs.forEach((s, k) => {
        s.sent = true;
        c.subs.set(s.id, s);
        c.ws.send(frames[k] as string);
      });
    }
    outcome = await waitFrames(Math.max(0, deadline - performance.now()));
  }
  remaining = 0;

  let last = t0;
  let snapshots = 0;
  let sampleFrame: string | undefined;
  const expectedPayload = new Map<string, string>();
  const expected = (payoutId: string) => {
    let e = expectedPayload.get(payoutId);
    if (e === undefined) {
      e = JSON.stringify({ data: { payoutStatus: processingFields(payoutId) } });
      expectedPayload.set(payoutId, e);
    }
    return e;
  };
  for (const { c } of plan) {
    c.frames.forEach((raw, k) => {
      const text = toText(raw);
      const t = c.times[k] as number;
      const msg = parseFrame(text);
      const sub = typeof msg?.id === 'string' ? c.subs.get(msg.id) : undefined;
      if (!msg || !sub) return problems.add('frame for no subscription of this client', `client ${c.index}: ${text}`);
      if (msg.type === 'next' && sub.snapshotAt === undefined && JSON.stringify(msg.payload) === expected(sub.payoutId)) {
        sub.snapshotAt = t;
        snapshots++;
        if (t > last) last = t;
        sampleFrame ??= text;
        return;
      }
      if (msg.type === 'error' || msg.type === 'complete') c.subs.delete(sub.id);
      problems.add(`unexpected ${String(msg.type)} frame instead of the PROCESSING snapshot`, `client ${c.index}: ${text}`);
    });
    c.frames = [];
    c.times = [];
  }
  for (const { c, subs } of plan) {
    for (const s of subs) {
      if (!s.sent) problems.add(`not subscribed: an earlier wave ended (${outcome})`, `client ${c.index} subscription ${s.id}`);
      else if (s.snapshotAt === undefined && c.subs.has(s.id)) problems.add(`no snapshot (${outcome})`, `client ${c.index} subscription ${s.id} (payout ${s.payoutId})`);
    }
  }
  takeUnexpected(problems, 'during subscribe');
  return { subscriptions: total, ms: last - t0, snapshots, problems: problems.list(), ...(sampleFrame ? { sampleFrame } : {}) };
}

function poolFor(httpUrl: string): Pool {
  const origin = new URL(httpUrl).origin;
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 16, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
    pools.set(origin, pool);
  }
  return pool;
}

const sleepUntil = (at: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

async function fire(req: FireRequest): Promise<FireResult> {
  const blocked = loopBlockWindow();
  const problems = new Problems();
  takeUnexpected(problems, 'before fire');
  const watchers = new Map<string, { c: Client; sub: Sub }[]>(req.events.map((e) => [e.payoutId, []]));
  let expectedFrames = 0;
  for (const c of clients) {
    for (const sub of c.subs.values()) {
      const list = watchers.get(sub.payoutId);
      if (!list) continue;
      list.push({ c, sub });
      expectedFrames += 2;
    }
  }
  // Signed before the clock starts: signing is the sender's work, not the server's.
  const deliveries = req.events.map((e) => completedDelivery(webhookSecret, e.payoutId, e.deliveryId));
  const finalPayload = deliveries.map((d, k) =>
    JSON.stringify({
      data: {
        payoutStatus: {
          id: (req.events[k] as { payoutId: string }).payoutId,
          status: 'SUCCESS',
          isFinal: true,
          amount: FANOUT_AMOUNT,
          currency: FANOUT_CURRENCY,
          completedAt: d.completedAt,
        },
      },
    }),
  );
  const eventOf = new Map(req.events.map((e, k) => [e.payoutId, k]));
  const pool = poolFor(req.httpUrl);
  const path = '/webhooks/zopay';
  const sends: { sentAt: number; answeredAt: number; status: number }[] = req.events.map(() => ({ sentAt: Number.NaN, answeredAt: Number.NaN, status: 0 }));
  const requests: Promise<void>[] = [];

  remaining = expectedFrames;
  const start = performance.now();
  const deadline = start + req.timeoutMs;
  for (let k = 0; k < deliveries.length; k++) {
    if (req.intervalMs > 0 && k > 0) await sleepUntil(start + k * req.intervalMs);
    const d = deliveries[k] as (typeof deliveries)[number];
    const s = sends[k] as (typeof sends)[number];
    s.sentAt = performance.now();
    requests.push(
      pool.request({ method: 'POST', path, headers: d.headers, body: d.body }).then(
        async (res) => {
          const text = await res.body.text();
          s.answeredAt = performance.now();
          s.status = res.statusCode;
          if (res.statusCode !== 200 || !text.includes('"accepted"')) problems.add('webhook not accepted', `HTTP ${res.statusCode} ${text.slice(0, 300)} for ${d.body.slice(0, 300)}`);
        },
        (err: unknown) => problems.add('webhook request failed', `${err instanceof Error ? err.message : String(err)} for ${d.body.slice(0, 200)}`),
      ),
    );
  }
  const outcome = await waitFrames(Math.max(0, deadline - performance.now()));
  remaining = 0;
  await Promise.race([Promise.all(requests), sleepUntil(Math.max(deadline, performance.now() + 1_000))]);

  let frames = 0;
  let sampleNext: string | undefined;
  let sampleComplete: string | undefined;
  let sampleCompletedAt: string | undefined;
  for (const c of clients) {
    c.frames.forEach((raw, k) => {
      frames++;
      const text = toText(raw);
      const t = c.times[k] as number;
      const msg = parseFrame(text);
      const sub = typeof msg?.id === 'string' ? c.subs.get(msg.id) : undefined;
      const ev = sub ? eventOf.get(sub.payoutId) : undefined;
      if (!msg || !sub || ev === undefined) return problems.add('frame for no fired payout of this client', `client ${c.index}: ${text}`);
      if (msg.type === 'next' && sub.finalAt === undefined) {
        if (JSON.stringify(msg.payload) !== finalPayload[ev]) return problems.add('final next with unexpected data', `client ${c.index}: ${text} (expected payload ${finalPayload[ev]})`);
        sub.finalAt = t;
        if (sampleNext === undefined) {
          sampleNext = text;
          sampleCompletedAt = (deliveries[ev] as { completedAt: string }).completedAt;
        }
        return;
      }
      if (msg.type === 'complete' && sub.finalAt !== undefined && sub.completeAt === undefined) {
        sub.completeAt = t;
        sampleComplete ??= text;
        c.subs.delete(sub.id);
        return;
      }
      if (msg.type === 'error') c.subs.delete(sub.id);
      problems.add(`unexpected ${String(msg.type)} frame`, `client ${c.index}: ${text}`);
    });
    c.frames = [];
    c.times = [];
  }

  const events: FiredEvent[] = req.events.map((e, k) => {
    const list = watchers.get(e.payoutId) ?? [];
    const finals = list
      .map((w) => w.sub.finalAt)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    const completed = list.filter((w) => w.sub.completeAt !== undefined).length;
    for (const w of list) {
      if (w.sub.finalAt === undefined) problems.add(`final next missing (${outcome})`, `client ${w.c.index} subscription ${w.sub.id} (payout ${e.payoutId})`);
      else if (w.sub.completeAt === undefined) problems.add(`complete missing (${outcome})`, `client ${w.c.index} subscription ${w.sub.id} (payout ${e.payoutId})`);
    }
    const s = sends[k] as (typeof sends)[number];
    const rel = (t: number | undefined) => (t === undefined || Number.isNaN(t) ? null : t - start);
    return {
      payoutId: e.payoutId,
      dueMs: k * req.intervalMs,
      sentMs: s.sentAt - start,
      answeredMs: rel(s.answeredAt),
      httpStatus: s.status,
      expected: list.length,
      delivered: finals.length,
      completed,
      firstMs: rel(finals[0]),
      medianMs: rel(finals[Math.floor((finals.length - 1) / 2)]),
      lastMs: rel(finals[finals.length - 1]),
    };
  });
  takeUnexpected(problems, 'during fire');
  return {
    events,
    frames,
    expectedFrames,
    problems: problems.list(),
    ...(sampleNext ? { sampleNext } : {}),
    ...(sampleComplete ? { sampleComplete } : {}),
    ...(sampleCompletedAt ? { sampleCompletedAt } : {}),
    blocks: blocked(),
    startEpochMs: performance.timeOrigin + start,
  };
}

function status(): FleetStatus {
  const problems = new Problems();
  const strayFrames = takeUnexpected(problems, 'while idle');
  const pings = clients.map((c) => c.pings);
  let active = 0;
  for (const c of clients) active += c.subs.size;
  return {
    clients: clients.length,
    open: clients.filter((c) => c.open).length,
    closedEarly: everClosedEarly,
    errors: everErrored,
    strayFrames,
    pingsMin: pings.length ? Math.min(...pings) : 0,
    pingsMax: pings.length ? Math.max(...pings) : 0,
    activeSubscriptions: active,
    problems: problems.list(),
  };
}

async function close(timeoutMs: number): Promise<CloseResult> {
  const problems = new Problems();
  takeUnexpected(problems, 'before close');
  const started = performance.now();
  const all = clients;
  for (const c of all) {
    c.closing = true;
    if (c.open) c.ws.close(1000, 'bench done');
  }
  const closedAll = Promise.all(all.map((c) => c.closed)).then(() => true);
  const inTime = await Promise.race([closedAll, new Promise<false>((r) => setTimeout(() => r(false), timeoutMs))]);
  if (!inTime) {
    const stuck = all.filter((c) => c.open);
    for (const c of stuck) c.ws.terminate();
    problems.add('no close handshake in time (terminated)', `${stuck.length} clients, e.g. ${stuck[0]?.index}`);
  }
  clients = [];
  everClosedEarly = 0;
  everErrored = 0;
  return { closed: all.length, ms: performance.now() - started, problems: problems.list() };
}

type Op = (body: unknown) => Promise<unknown> | unknown;

const OPS: Record<string, Op> = {
  [`POST ${FLEET_PATHS.connect}`]: (b) => connect(b as ConnectRequest),
  [`POST ${FLEET_PATHS.subscribe}`]: (b) => subscribe(b as SubscribeRequest),
  [`POST ${FLEET_PATHS.fire}`]: (b) => fire(b as FireRequest),
  [`POST ${FLEET_PATHS.close}`]: (b) => close(Number((b as { timeoutMs?: number }).timeoutMs ?? 30_000)),
  [`GET ${FLEET_PATHS.status}`]: () => status(),
};

let busy = false;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const op = OPS[`${req.method} ${(req.url ?? '/').split('?')[0]}`];
  if (!op) return sendJson(res, 404, { error: 'not found' });
  const raw = await readBody(req, 10_000_000);
  if (busy) return sendJson(res, 409, { error: 'another operation is running' });
  busy = true;
  try {
    sendJson(res, 200, await op(raw.length ? JSON.parse(raw.toString('utf8')) : {}));
  } catch (err) {
    sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
  } finally {
    busy = false;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = serve(handle);
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const url = await listen(server, Number(process.env['PORT'] ?? 0), '127.0.0.1');
  exitWithParent(async () => {
    for (const c of clients) c.ws.terminate();
    await Promise.all([...pools.values()].map((p) => p.close()));
    await closeServer(server);
  });
  announceReady(url);
}
