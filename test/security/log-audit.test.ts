/**
 * Log audit: the whole flow (quote, execute, reads, webhooks, subscriptions over graphql-ws and SSE, and a
 * spread of errors and attacks) runs against a production gateway with known secrets, logging at trace
 * into a capture. Afterwards no secret, bearer token, signature or full MSISDN may appear in any log line,
 * in anything printed on the console, or in any error a client saw. Log lines are JSON with a request id,
 * and ZoPay's correlation id can be tied to the request that caused it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signWebhook, signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { createLogger } from '../../src/lib/logger.js';
import { GatewayMetrics } from '../../src/lib/metrics.js';
import { loadConfig } from '../../src/config.js';
import { EXECUTE, PAYOUT, QUOTE, quoteInput } from '../helpers/gateway.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import {
  LogCapture,
  MSISDN_OK,
  MSISDN_PENDING,
  SECRETS,
  ackedWs,
  gql,
  payVia,
  productionEnv,
  rawRequest,
  rawWs,
  sse,
  startSecureStack,
  waitFor,
  wsOperation,
  type SecureStack,
} from './support.js';

const MSISDN_BROKE = '+237670000003'; // FAILED asynchronously (insufficient funds)
const NUMBERS = [MSISDN_OK, MSISDN_PENDING, MSISDN_BROKE];

let redis: RedisServerHandle;
let stack: SecureStack;
const tokens: string[] = [];
const clientErrors: unknown[] = [];
const consoleOutput: string[] = [];
let executeRequestId: string;
const phoneNamed: { sent: string; got: string; operation: string }[] = [];
let executedCorrelationId: string | undefined;

async function token(sub: string, scope = 'payouts:write', ttl = 3600): Promise<string> {
  const t = await stack.token(sub, scope, ttl);
  tokens.push(t);
  return t;
}

/** A GraphQL call whose errors are kept as "what a client saw". */
async function call<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, bearer: string | undefined, requestId?: string) {
  const res = await gql<T>(stack.url, query, variables, bearer, requestId ? { 'x-request-id': requestId } : {});
  if (res.errors) clientErrors.push(res.errors);
  return res;
}

function webhookRaw(payoutId: string, status: 'SUCCESS' | 'PROCESSING'): string {
  return JSON.stringify({
    event: status === 'SUCCESS' ? 'payout.completed' : 'payout.processing',
    data: { payout_id: payoutId, merchant_id: 'm', amount: '5000', currency: 'XAF', gateway: 'MTN_MOMO', recipient_msisdn: MSISDN_PENDING.slice(1), status, fees: '75', total_deducted: '5075', created_at: new Date().toISOString() },
    timestamp: new Date().toISOString(),
  });
}
const extraSignatures: string[] = [];
async function sendWebhook(raw: string, opts: { secret?: string; timestampMs?: number; deliveryId: string; body?: string }) {
  const headers = signedWebhookHeaders({ secret: opts.secret ?? SECRETS.webhookSecret, rawBody: raw, event: (JSON.parse(raw) as { event: string }).event, deliveryId: opts.deliveryId, timestampMs: opts.timestampMs ?? Date.now() });
  extraSignatures.push(headers['x-zo-signature'] as string);
  const res = await rawRequest(stack.url, { path: '/webhooks/zopay', headers, body: opts.body ?? raw });
  clientErrors.push(res.body);
  return res.status;
}

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleOutput.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}\n${a.stack ?? ''}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
  redis = await startRedis();
  stack = await startSecureStack({ env: { REDIS_URL: redis.url, ZOPAY_MAX_ATTEMPTS: '2' }, sandbox: { processingDelayMs: 60_000 } });
  const alice = await token('audit-alice');
  const bob = await token('audit-bob');

  // 1. Quote and execute, with request ids the client chose.
  const q = await call<{ createQuote: { id: string } }>(QUOTE, quoteInput(MSISDN_OK), alice, 'audit-quote-1');
  executeRequestId = 'audit-execute-1';
  const e = await call<{ executeDisbursement: { id: string; correlationId: string | null } }>(
    EXECUTE,
    { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'audit-order-1', recipient: { msisdn: MSISDN_OK } } },
    alice,
    executeRequestId,
  );
  executedCorrelationId = e.data?.executeDisbursement.correlationId ?? undefined;
  const paid = e.data?.executeDisbursement.id as string;
  // A replay of the same execute, reads and a list.
  await call(EXECUTE, { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'audit-order-1', recipient: { msisdn: MSISDN_OK } } }, alice);
  await call(PAYOUT, { id: paid }, alice);
  await call(PAYOUT, { id: paid }, bob);
  await call('query { payouts(first: 10) { totalCount edges { node { id status recipient { msisdn } } } } }', {}, alice);

  // Text the client chooses, holding a recipient's number in each form it can be written: an operation
  // name (logged, and a metric label) and a request id (refused for the logs: the gateway makes its own).
  for (const [i, n] of ['237670000001', '00237670000001', '670000001'].entries()) {
    const res = await rawRequest(stack.url, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}`, 'x-request-id': `order-${n}` },
      body: JSON.stringify({ query: `query PayoutFor_${n} { __typename }` }),
    });
    phoneNamed.push({ sent: `order-${n}`, got: String(res.headers['x-request-id']), operation: `PayoutFor_${['2376*****001', '6*****001', '6*****001'][i]}` });
  }

  // 2. Live status over graphql-ws and SSE; the sandbox's signed webhooks settle them (success and failure).
  const pending = await payVia(stack.url, alice, 'audit-order-2', MSISDN_PENDING);
  const failing = await payVia(stack.url, alice, 'audit-order-3', MSISDN_PENDING);
  // The insufficient-funds number resolves FAILED on its first look-up.
  const broke = await payVia(stack.url, alice, 'audit-order-6', MSISDN_BROKE);
  await call(PAYOUT, { id: broke }, alice);
  const ws = await ackedWs(stack.url, alice);
  const SUB = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status failure { code message } recipient { msisdn } } }';
  await wsOperation(ws, 's1', SUB, { id: pending });
  const s = sse(stack.url, SUB, { id: failing }, alice);
  await waitFor(() => s.payloads.length > 0, 5_000, 'SSE snapshot');
  stack.sandbox.settle(pending, 'SUCCESS');
  stack.sandbox.settle(failing, 'FAILED', { code: 'INSUFFICIENT_FUNDS', message: `Wallet of ${MSISDN_PENDING} declined` });
  await ws.next((m) => m['id'] === 's1' && m['type'] === 'complete');
  await s.done;
  for (const p of s.payloads) if (p.errors) clientErrors.push(p.errors);
  ws.close();

  // 3. Errors and attacks.
  await call(QUOTE, quoteInput('+23767000000a'), alice); // invalid msisdn
  await call(QUOTE, { input: { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipent: { msisdn: MSISDN_OK } } }, alice); // typo next to a real number
  await call(QUOTE, quoteInput(MSISDN_OK, '-5'), alice); // bad amount next to a real number
  await call(EXECUTE, { input: { quoteId: 'q', idempotencyKey: 'bad\u0000key', recipient: { msisdn: MSISDN_OK } } }, alice);
  await call(QUOTE, quoteInput(MSISDN_OK), undefined);
  await call(QUOTE, quoteInput(MSISDN_OK), `${alice.slice(0, -6)}AAAAAA`);
  await call(QUOTE, quoteInput(MSISDN_OK), await token('audit-alice', 'payouts:write', -60));
  await call(QUOTE, quoteInput(MSISDN_OK), await token('audit-reader', 'payouts:read'));
  stack.sandbox.faults.inject({ route: 'quote', kind: 'http500', times: 2 });
  await call(QUOTE, quoteInput(MSISDN_OK), alice);
  stack.sandbox.faults.inject({ route: 'quote', kind: 'rate429', times: 1, retryAfterSeconds: 60 });
  await call(QUOTE, quoteInput(MSISDN_OK), alice);
  stack.sandbox.faults.clear();
  stack.sandbox.faults.inject({ route: 'execute', kind: 'commitThenReset', times: 1 });
  const q2 = await call<{ createQuote: { id: string } }>(QUOTE, quoteInput(MSISDN_OK), alice);
  await call(EXECUTE, { input: { quoteId: q2.data?.createQuote.id, idempotencyKey: 'audit-order-4', recipient: { msisdn: MSISDN_OK } } }, alice);
  stack.sandbox.faults.clear();

  // Webhook attacks with the real body shape (it carries an msisdn).
  const pending2 = await payVia(stack.url, alice, 'audit-order-5', MSISDN_PENDING);
  await sendWebhook(webhookRaw(pending2, 'SUCCESS'), { secret: 'whsec_attacker', deliveryId: 'audit-forged' });
  await sendWebhook(webhookRaw(pending2, 'SUCCESS'), { timestampMs: Date.now() - 400_000, deliveryId: 'audit-stale' });
  await sendWebhook(webhookRaw(pending2, 'PROCESSING'), { deliveryId: 'audit-tampered', body: webhookRaw(pending2, 'PROCESSING').replace('PROCESSING', 'SUCCESS') });
  await sendWebhook(webhookRaw(pending2, 'SUCCESS'), { deliveryId: 'audit-genuine' });
  await sendWebhook(webhookRaw(pending2, 'SUCCESS'), { deliveryId: 'audit-genuine' });
  await sendWebhook(webhookRaw('unknown-payout', 'SUCCESS'), { deliveryId: 'audit-unknown' });
  clientErrors.push((await rawRequest(stack.url, { path: '/webhooks/zopay', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(200_000) })).body);

  // graphql-ws abuse.
  for (const auth of [`Bearer ${alice.slice(0, -6)}AAAAAA`, `Bearer ${await token('audit-alice', 'payouts:write', -60)}`]) {
    const bad = await rawWs(stack.url);
    bad.send({ type: 'connection_init', payload: { authorization: auth } });
    clientErrors.push(await bad.closed);
  }
  const big = await ackedWs(stack.url, alice);
  big.socket.send(JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: '{ __typename }', variables: { msisdn: MSISDN_OK, pad: 'x'.repeat(200_000) } } }));
  clientErrors.push(await big.closed);
  const bomb = await ackedWs(stack.url, alice);
  bomb.send({ id: 'x', type: 'subscribe', payload: { query: `query { ${Array.from({ length: 40 }, (_, i) => `a${i}: payout(id: "${MSISDN_OK}") { id }`).join(' ')} }` } });
  clientErrors.push(await Promise.race([bomb.next((m) => m['id'] === 'x'), bomb.closed]));
  bomb.close();
  const unknown = await ackedWs(stack.url, bob);
  clientErrors.push(await wsOperation(unknown, 'u', SUB, { id: pending }));
  unknown.close();
  await new Promise((r) => setTimeout(r, 300)); // let trailing log lines (closes, publishes) land
}, 30_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await stack?.close();
  await redis?.stop();
});

/** Every string that must never be printed or shown, with a name for the failure message. */
function needles(): [string, string][] {
  const list: [string, string][] = Object.entries(SECRETS)
    .filter(([k]) => k !== 'origin')
    .map(([k, v]) => [k, v]);
  for (const t of tokens) {
    list.push(['a bearer token', t]);
    list.push(['a bearer token signature', t.split('.')[2] as string]);
  }
  for (const r of stack.sandbox.requests) {
    if (r.headers['x-zo-signature']) list.push(['an upstream request signature', r.headers['x-zo-signature']]);
  }
  for (const sig of extraSignatures) list.push(['a webhook signature', sig]);
  for (const d of stack.sandbox.webhooks.deliveries()) {
    for (const a of d.attempts) for (let t = a.at - 20; t <= a.at + 20; t++) list.push(['a sandbox webhook signature', signWebhook(SECRETS.webhookSecret, String(t), d.body)]);
  }
  return list;
}
const FULL_MSISDN = new RegExp(`(?<!\\d)(?:\\+?237|00237)?(?:${NUMBERS.map((n) => n.slice(4)).join('|')})(?!\\d)`);

function audit(what: string, text: string): void {
  for (const [name, value] of needles()) {
    expect(text.includes(value), `${name} found in ${what}`).toBe(false);
  }
  const m = FULL_MSISDN.exec(text);
  expect(m ? `${what} contains the full MSISDN ${m[0]} near: …${text.slice(Math.max(0, m.index - 120), m.index + 40)}…` : null).toBeNull();
}

describe('log audit after the whole flow', () => {
  it('the flow ran: quotes, executes, webhooks, subscriptions and errors all produced log lines', () => {
    expect(stack.logs.lines.length).toBeGreaterThan(50);
    expect(stack.sandbox.webhooks.deliveries().length).toBeGreaterThanOrEqual(2);
    expect(clientErrors.length).toBeGreaterThan(15);
  });

  it('every log line is one JSON object with a level and a time', () => {
    for (const line of stack.logs.text().split('\n').filter(Boolean)) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      expect(typeof rec['level']).toBe('number');
      expect(typeof rec['time']).toBe('string');
    }
  });

  it('operation log lines carry the request id the client sent (x-request-id)', () => {
    const recs = stack.logs.records();
    expect(recs.some((r) => r['requestId'] === 'audit-quote-1')).toBe(true);
    expect(recs.some((r) => r['requestId'] === executeRequestId)).toBe(true);
    // Webhook deliveries get an id of their own on every line.
    const webhookLines = recs.filter((r) => r['msg'] === 'webhook recorded');
    expect(webhookLines.length).toBeGreaterThan(0);
    for (const r of webhookLines) expect(r['requestId']).toEqual(expect.any(String));
  });

  it('a request id holding a phone number is replaced by one of the gateway\'s, the same in the header and the log', () => {
    const recs = stack.logs.records();
    expect(phoneNamed).toHaveLength(3);
    for (const { sent, got, operation } of phoneNamed) {
      expect(got, sent).toMatch(/^[0-9a-f-]{36}$/);
      // The operation's line is found under the id the client was given, its name masked (00237 and
      // national forms included).
      expect(recs.find((r) => r['requestId'] === got && r['msg'] === 'graphql operation')?.['operation'], sent).toBe(operation);
    }
  });

  it("ZoPay's correlation id of the execute is logged on a line that also carries the request id", () => {
    expect(executedCorrelationId).toEqual(expect.any(String));
    const recs = stack.logs.records();
    expect(recs.some((r) => JSON.stringify(r).includes(executedCorrelationId as string))).toBe(true);
    expect(recs.some((r) => r['requestId'] === executeRequestId && JSON.stringify(r).includes(executedCorrelationId as string))).toBe(true);
  });

  it('no secret, bearer token, signature or full MSISDN in any log line', () => {
    audit('the gateway logs', stack.logs.text());
  });

  it('no secret, bearer token, signature or full MSISDN in anything printed on the console', () => {
    audit('the console output', consoleOutput.join('\n'));
  });

  it('no secret, bearer token, signature or full MSISDN in any error a client saw', () => {
    audit('the client-visible errors', JSON.stringify(clientErrors));
  });
});

describe('the logger itself redacts what a careless log call would leak', () => {
  const config = loadConfig(productionEnv());
  const bearer = `Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${'s'.repeat(43)}`;
  // Within two levels: the depth logger.ts says log objects are kept to.
  const flat: [string, Record<string, unknown>][] = [
    ['request headers', { headers: { authorization: bearer, Authorization: bearer } }],
    ['ZoPay request headers', { headers: { 'x-zo-key': SECRETS.apiKey, 'x-zo-signature': 'f'.repeat(64), 'x-zo-nonce': 'n0nce-123' } }],
    ['ZoPay credentials', { credentials: { apiKey: SECRETS.apiKey, apiSecret: SECRETS.apiSecret } }],
    ['webhook secrets', { zopay: { webhookSecret: SECRETS.webhookSecret, webhookSecrets: [SECRETS.webhookSecret] } }],
    ['a payout', { payout: { id: 'p1', recipientMsisdn: MSISDN_OK } }],
    ['a webhook event', { data: { recipient_msisdn: '237670000001' } }],
    ['a token', { token: bearer.slice(7) }],
    // Text a client chooses (an operation name, a request id) with a number glued to letters or "_".
    ['an operation name', { operation: 'PayoutFor_237670000001' }],
    ['a request id', { requestId: 'payout_237670000005' }],
    ['a number inside a word', { note: 'sent to+237670000001by SMS, and tel237670000005x' }],
  ];
  // Deeper shapes a careless call produces: pino-http's `req`, nested headers, bodies, configs, lists.
  const deep: [string, Record<string, unknown>][] = [
    ["an incoming request in pino-http's shape", { req: { method: 'POST', url: '/graphql', headers: { authorization: bearer } } }],
    ['outgoing ZoPay headers under a key', { upstream: { headers: { 'x-zo-key': SECRETS.apiKey, 'x-zo-signature': 'f'.repeat(64) } } }],
    ['a webhook request with its body', { headers: { 'x-zo-signature': 'e'.repeat(64) }, body: { data: { recipient_msisdn: '237670000001' } } }],
    ['the whole configuration', { config }],
    ['a payout with its recipient', { payout: { id: 'p1', recipient: { msisdn: MSISDN_OK } } }],
    ['a list of payouts', { payouts: [{ recipientMsisdn: MSISDN_OK }, { recipient: { msisdn: MSISDN_PENDING } }] }],
    ['GraphQL variables', { variables: { input: { recipient: { msisdn: MSISDN_OK } } } }],
  ];

  const expectRedacted = (obj: Record<string, unknown>) => {
    const capture = new LogCapture();
    createLogger({ level: 'info', destination: capture }).info(obj, 'careless');
    const line = capture.text();
    for (const value of [SECRETS.apiKey, SECRETS.apiSecret, SECRETS.webhookSecret, SECRETS.jwtSecret, bearer.slice(7), 'f'.repeat(64), 'e'.repeat(64)]) {
      expect(line.includes(value), `${value.slice(0, 12)}… in ${line}`).toBe(false);
    }
    expect(line).not.toMatch(/(?<!\d)(?:\+?237|00237)?67000000[15](?!\d)/);
  };
  it.each(flat)('%s: no secret, token, signature or full MSISDN in the line', (_name, obj) => expectRedacted(obj));
  it.each(deep)('%s (deeper than two levels): no secret, token, signature or full MSISDN in the line', (_name, obj) => expectRedacted(obj));

  it('keeps timestamps, amounts and longer digit runs whole, and masks only the number glued inside an id', () => {
    const capture = new LogCapture();
    const kept = { payoutId: '6612345678-2370-4000-8000-237670000001a', at: '2026-11-27T20:49:16.370Z', ms: 1795812556000, amount: '650000000', longer: '12376700000019' };
    createLogger({ level: 'info', destination: capture }).info(kept, 'kept');
    expect(capture.records()[0]).toMatchObject({ ...kept, payoutId: '6612345678-2370-4000-8000-2376*****001a' });
  });

  it("an error's message (text no one wrote for a log) has the national form masked too; an id field keeps it", () => {
    const capture = new LogCapture();
    const err = new TypeError('no route to 670000001 (tried +237670000005, 00237670000002)');
    createLogger({ level: 'info', destination: capture }).info({ err, payoutId: 'po_670000001' }, 'careless');
    expect(capture.records()[0]).toMatchObject({ err: { name: 'TypeError', message: 'no route to 6*****001 (tried +2376*****005, 6*****002)' }, payoutId: 'po_670000001' });
  });

  it('a metric label made of an operation name has its phone numbers masked too', () => {
    const metrics = new GatewayMetrics();
    expect(metrics.operationLabel('PayoutFor_237670000001', 'trusted')).toBe('PayoutFor_2376*****001');
    expect(metrics.operationLabel('Send+237670000005', 'trusted')).toBe('Send+2376*****005');
    expect(metrics.operationLabel('PayoutFor_00237670000001', 'trusted')).toBe('PayoutFor_6*****001');
    expect(metrics.operationLabel('PayoutTo670000005', 'trusted')).toBe('PayoutTo6*****005');
  });

  it('a masked MSISDN still tells the country and the last digits apart', () => {
    const capture = new LogCapture();
    createLogger({ level: 'info', destination: capture }).info({ payout: { recipientMsisdn: MSISDN_OK } }, 'masked');
    expect(capture.records()[0]?.['payout']).toEqual({ recipientMsisdn: '+2376*****001' });
  });
});
