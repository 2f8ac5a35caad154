/**
 * The adversarial suite: one row per attack, read as "transport · attack → what the client sees".
 *
 * Every row, whatever it attacks, must also leave no trace: no ZoPay call (the sandbox request log), no
 * Redis write (every command the gateway runs is watched through MONITOR; reads are fine), no publish,
 * nothing internal in what the client sees, and a healthy process afterwards. Production mode, Redis
 * configured, webhooks delivered by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { EXECUTE, PAYOUT, QUOTE, quoteInput } from '../helpers/gateway.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import {
  MSISDN_OK,
  MSISDN_PENDING,
  SECRETS,
  ackedWs,
  gql,
  healthy,
  jsonChunks,
  payVia,
  quoteVia,
  rawRequest,
  rawSocketRequest,
  sse,
  startSecureStack,
  watchRedis,
  type RedisWatch,
  type SecureStack,
} from './support.js';

interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}
/** What the attacker got back. */
interface Seen {
  status?: number;
  errors?: GqlError[];
  data?: unknown;
  close?: { code: number; reason: string };
  body?: string;
}
type Expectation =
  | { kind: 'error'; codes: string[]; mentions?: RegExp }
  | { kind: 'status'; status: number; body?: RegExp }
  | { kind: 'close'; code: number }
  | { kind: 'same-as-missing'; missing: () => Promise<Seen> };
interface Attack {
  via: 'HTTP' | 'WebSocket' | 'SSE' | 'webhook';
  attack: string;
  outcome: string;
  run: () => Promise<Seen>;
  expect: Expectation;
}

let redis: RedisServerHandle;
let stack: SecureStack;
let watch: RedisWatch;
let alice: string;
/** Alice's claims, correctly signed, but without `exp`: a token that would never expire. */
let aliceForever: string;
let bob: string;
/** Alice's pending payout (stays PROCESSING). */
let alicePayout: string;
/** A quote of Alice's that no attack may consume. */
let aliceQuote: string;
/** A payout completed by a genuine, signed delivery: the material for replay attacks. */
let delivered: { payoutId: string; raw: string; headers: Record<string, string> };

beforeAll(async () => {
  redis = await startRedis();
  stack = await startSecureStack({ env: { REDIS_URL: redis.url }, sandbox: { webhookUrl: null } });
  alice = await stack.token('attack-alice');
  aliceForever = await new SignJWT({ scope: 'payouts:write payouts:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('attack-alice').setIssuedAt().sign(new TextEncoder().encode(SECRETS.jwtSecret));
  bob = await stack.token('attack-bob');
  alicePayout = await payVia(stack.url, alice, 'attack-setup-1', MSISDN_PENDING);
  aliceQuote = await quoteVia(stack.url, alice, MSISDN_OK);

  const payoutId = await payVia(stack.url, alice, 'attack-setup-2', MSISDN_PENDING);
  const raw = webhookBody(payoutId, 'payout.completed');
  const headers = signedWebhookHeaders({ secret: SECRETS.webhookSecret, rawBody: raw, event: 'payout.completed', deliveryId: 'genuine-1', timestampMs: Date.now() });
  const first = await rawRequest(stack.url, { path: '/webhooks/zopay', headers, body: raw });
  if (first.status !== 200) throw new Error(`the genuine delivery was refused: ${first.status} ${first.body}`);
  delivered = { payoutId, raw, headers };

  watch = await watchRedis(redis.url);
});
afterAll(async () => {
  await watch?.close();
  await stack?.close();
  await redis?.stop();
});

// ---------------------------------------------------------------------------------------------------
// How attacks are sent.

/** `token: null` sends no Authorization header. */
const viaHttp = async (query: string, variables: Record<string, unknown> = {}, token: string | null = alice): Promise<Seen> => {
  const res = await gql(stack.url, query, variables, token ?? undefined);
  return { status: res.status, ...(res.errors ? { errors: res.errors } : {}), data: res.data };
};

const viaWs = async (query: string, variables: Record<string, unknown> = {}, token = alice): Promise<Seen> => {
  const ws = await ackedWs(stack.url, token);
  try {
    ws.send({ id: 'attack', type: 'subscribe', payload: { query, variables } });
    const m = await Promise.race([
      ws.next((x) => x['id'] === 'attack' && (x['type'] === 'next' || x['type'] === 'error')),
      ws.closed.then((close) => ({ close })),
    ]);
    if ('close' in m) return { close: m.close as { code: number; reason: string } };
    if (m['type'] === 'error') return { errors: m['payload'] as GqlError[] };
    const payload = m['payload'] as { data?: unknown; errors?: GqlError[] };
    return { ...(payload.errors ? { errors: payload.errors } : {}), data: payload.data };
  } finally {
    ws.close();
  }
};

const viaSse = async (query: string, variables: Record<string, unknown>, token?: string): Promise<Seen> => {
  const s = sse(stack.url, query, variables, token);
  await Promise.race([s.done, new Promise((r) => setTimeout(r, 3_000))]);
  s.close();
  const errors = s.payloads.flatMap((p) => p.errors ?? []);
  const data = s.payloads.find((p) => p.data)?.data ?? null;
  return { status: await s.status, ...(errors.length ? { errors } : {}), data };
};

const viaRaw = async (opts: Parameters<typeof rawRequest>[1]): Promise<Seen> => {
  const res = await rawRequest(stack.url, opts);
  return { status: res.status, body: res.body };
};

const wsFrame = async (frame: string): Promise<Seen> => {
  const ws = await ackedWs(stack.url, alice);
  ws.socket.send(frame);
  return { close: await ws.closed };
};

function webhookBody(payoutId: string, event: 'payout.completed' | 'payout.failed' | 'payout.processing'): string {
  const status = event === 'payout.completed' ? 'SUCCESS' : event === 'payout.failed' ? 'FAILED' : 'PROCESSING';
  return JSON.stringify({
    event,
    data: { payout_id: payoutId, merchant_id: 'm', amount: '5000', currency: 'XAF', gateway: 'MTN_MOMO', recipient_msisdn: MSISDN_PENDING.slice(1), status, fees: '75', total_deducted: '5075', created_at: new Date().toISOString() },
    timestamp: new Date().toISOString(),
  });
}

const webhook = async (opts: { raw?: string; secret?: string; timestampMs?: number; deliveryId?: string; tamper?: (h: Record<string, string>) => void; body?: string }): Promise<Seen> => {
  const raw = opts.raw ?? webhookBody(alicePayout, 'payout.completed');
  const headers = signedWebhookHeaders({
    secret: opts.secret ?? SECRETS.webhookSecret,
    rawBody: raw,
    event: (JSON.parse(raw) as { event: string }).event,
    deliveryId: opts.deliveryId ?? `attack-${Math.random().toString(36).slice(2)}`,
    timestampMs: opts.timestampMs ?? Date.now(),
  });
  opts.tamper?.(headers);
  return viaRaw({ path: '/webhooks/zopay', headers, body: opts.body ?? raw });
};

// ---------------------------------------------------------------------------------------------------
// Expectations.

const rejected = (...codes: string[]) => ({ outcome: codes.join(' or '), expect: { kind: 'error', codes } as Expectation });
const badInput = (field: string) => ({ outcome: `BAD_USER_INPUT on ${field}`, expect: { kind: 'error', codes: ['BAD_USER_INPUT'], mentions: new RegExp(field) } as Expectation });
const httpStatus = (status: number, body?: RegExp) => ({ outcome: `HTTP ${status}`, expect: { kind: 'status', status, ...(body ? { body } : {}) } as Expectation });
const closed = (code: number) => ({ outcome: `closed with ${code}`, expect: { kind: 'close', code } as Expectation });
const LIMIT_HIT = rejected('GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED');
const INTROSPECTION_OFF = { outcome: 'GRAPHQL_VALIDATION_FAILED (introspection disabled)', expect: { kind: 'error', codes: ['GRAPHQL_VALIDATION_FAILED'], mentions: /introspection/i } as Expectation };

function verify(seen: Seen, e: Expectation): void {
  switch (e.kind) {
    case 'error': {
      expect(seen.close, 'the socket must not be closed').toBeUndefined();
      expect(seen.data ?? null).toBeNull();
      expect(seen.errors?.length).toBeGreaterThan(0);
      expect(e.codes).toContain(seen.errors?.[0]?.extensions?.['code']);
      if (e.mentions) expect(JSON.stringify(seen.errors)).toMatch(e.mentions);
      for (const err of seen.errors ?? []) expect(err.message).not.toMatch(/did you mean|limit of \d|found \d/i);
      return;
    }
    case 'status':
      expect(seen.status).toBe(e.status);
      if (e.body) expect(seen.body).toMatch(e.body);
      return;
    case 'close':
      expect(seen.close?.code).toBe(e.code);
      return;
    case 'same-as-missing':
      return;
  }
}

/** Nothing internal in anything the attacker saw. */
function expectNoLeak(seen: Seen): void {
  const text = JSON.stringify(seen);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/node_modules|\/src\/|\.ts:\d+|\bat \S+ \(|originalError|stacktrace|x-zo-(key|signature|nonce)/i);
  expect(text).not.toContain(stack.sandbox.url);
}

async function runAttack(a: Attack): Promise<void> {
  const upstreamBefore = stack.sandbox.requests.length;
  await watch.mark();
  const seen = await a.run();
  if (a.expect.kind === 'same-as-missing') {
    expect(seen).toEqual(await a.expect.missing());
  } else {
    verify(seen, a.expect);
  }
  expectNoLeak(seen);
  expect(stack.sandbox.requests.slice(upstreamBefore).map((r) => `${r.method} ${r.path}`), 'upstream calls').toEqual([]);
  expect(await watch.writesSinceMark(), 'Redis writes').toEqual([]);
  expect(await healthy(stack.url)).toBe(true);
}

/** `it.each` rows titled "transport · attack → outcome". */
const rows = (attacks: Attack[]): [string, Attack][] => attacks.map((a) => [`${a.via} · ${a.attack} → ${a.outcome}`, a]);
const runRow = (_title: string, a: Attack) => runAttack(a);

// ---------------------------------------------------------------------------------------------------
// The attacks.

describe('control', () => {
  it('the side-effect probes do see a legitimate quote: one upstream call and Redis writes', async () => {
    const upstreamBefore = stack.sandbox.requests.length;
    await watch.mark();
    const res = await gql<{ createQuote: { __typename: string } }>(stack.url, QUOTE, quoteInput(), bob);
    expect(res.data?.createQuote.__typename).toBe('Quote');
    expect(stack.sandbox.requests.length - upstreamBefore).toBe(1);
    expect((await watch.writesSinceMark()).length).toBeGreaterThan(0);
  });
});

describe('query bombs', () => {
  const deep = `query Deep { ${'payouts { '.repeat(50)}id${' }'.repeat(50)} }`;
  const schemaFragment = `query { ...__schema } fragment __schema on Query { ${'payouts { '.repeat(20)}id${' }'.repeat(20)} }`;
  const aliasBomb = () => `query { ${Array.from({ length: 1_000 }, (_, i) => `a${i}: payout(id: "${alicePayout}") { id }`).join(' ')} }`;
  const aliasBombSmall = `query { ${Array.from({ length: 60 }, (_, i) => `a${i}: payout(id: "p") { id }`).join(' ')} }`;
  const directiveBomb = `query { __typename ${'@skip(if: false) '.repeat(1_000)}}`;
  const directiveBombSmall = `query { ${'... @include(if: true) { __typename } '.repeat(60)}}`;
  const tokenBomb = `query { ${'a '.repeat(20_000)}}`;
  const wide = `query { ${Array.from({ length: 14 }, (_, i) => `p${i}: payouts(first: 100) { edges { node { id status amount currency createdAt recipient { msisdn } failure { code message } } } }`).join(' ')} }`;
  const cases: [string, () => string][] = [
    ['a depth-50 query', () => deep],
    ['a deep query in a fragment named __schema', () => schemaFragment],
    ['an alias bomb (1 000 payout aliases)', aliasBomb],
    ['an alias bomb (60 aliases, under the token limit)', () => aliasBombSmall],
    ['a directive bomb (1 000 directives)', () => directiveBomb],
    ['a directive bomb (60 directives, under the token limit)', () => directiveBombSmall],
    ['a token bomb (20 000 tokens)', () => tokenBomb],
    ['a wide query (14 full lists)', () => wide],
  ];
  const attacks: Attack[] = cases.flatMap(([attack, q]) => [
    { via: 'HTTP' as const, attack, ...LIMIT_HIT, run: () => viaHttp(q()) },
    { via: 'WebSocket' as const, attack, ...LIMIT_HIT, run: () => viaWs(q()) },
  ]);
  it.each(rows(attacks))('%s', runRow);
});

describe('huge bodies', () => {
  const attacks: Attack[] = [
    {
      via: 'HTTP',
      attack: 'a declared 5 MB body (nothing sent after the headers)',
      ...httpStatus(413),
      run: async () => {
        const host = new URL(stack.url).host;
        const raw = await rawSocketRequest(stack.url, `POST /graphql HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${alice}\r\nContent-Length: ${5 * 1024 * 1024}`);
        return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), body: raw.slice(raw.indexOf('\r\n\r\n') + 4) };
      },
    },
    { via: 'HTTP', attack: 'a 5 MB JSON body', ...httpStatus(413), run: () => viaRaw({ headers: { 'content-type': 'application/json' }, body: Buffer.concat([...jsonChunks(5 * 1024 * 1024)]) }) },
    { via: 'HTTP', attack: 'a 100 MB chunked body', ...httpStatus(413), run: () => viaRaw({ headers: { 'content-type': 'application/json' }, chunks: jsonChunks(100 * 1024 * 1024) }) },
    { via: 'WebSocket', attack: 'a 10 MB frame', ...closed(1009), run: () => wsFrame(JSON.stringify({ id: 'x', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(10 * 1024 * 1024) } } })) },
    { via: 'webhook', attack: 'a 5 MB signed-looking body', ...httpStatus(413), run: () => webhook({ body: 'x'.repeat(5 * 1024 * 1024) }) },
    { via: 'webhook', attack: 'a 100 MB chunked body', ...httpStatus(413), run: () => viaRaw({ path: '/webhooks/zopay', headers: { 'content-type': 'application/json' }, chunks: jsonChunks(100 * 1024 * 1024) }) },
  ];
  it.each(rows(attacks))('%s', runRow);
});

describe('forged, stale, replayed and tampered webhooks', () => {
  const attacks: Attack[] = [
    { via: 'webhook', attack: 'signed with another secret', ...httpStatus(401), run: () => webhook({ secret: 'whsec_attacker' }) },
    { via: 'webhook', attack: 'signed with the API secret instead of the webhook secret', ...httpStatus(401), run: () => webhook({ secret: SECRETS.apiSecret }) },
    { via: 'webhook', attack: 'a stale timestamp (−301 s)', ...httpStatus(401), run: () => webhook({ timestampMs: Date.now() - 301_000 }) },
    { via: 'webhook', attack: 'a future timestamp (+301 s)', ...httpStatus(401), run: () => webhook({ timestampMs: Date.now() + 301_000 }) },
    { via: 'webhook', attack: 'a body tampered after signing (PROCESSING → SUCCESS)', ...httpStatus(401), run: () => webhook({ raw: webhookBody(alicePayout, 'payout.processing'), body: webhookBody(alicePayout, 'payout.processing').replace('PROCESSING', 'SUCCESS') }) },
    { via: 'webhook', attack: 'no signature header', ...httpStatus(401), run: () => webhook({ tamper: (h) => delete h['x-zo-signature'] }) },
    { via: 'webhook', attack: 'no timestamp header', ...httpStatus(401), run: () => webhook({ tamper: (h) => delete h['x-zo-timestamp'] }) },
    { via: 'webhook', attack: 'a signature of the wrong length', ...httpStatus(401), run: () => webhook({ tamper: (h) => (h['x-zo-signature'] = 'abc123') }) },
    { via: 'webhook', attack: 'an upper-case copy of the right signature', ...httpStatus(401), run: () => webhook({ tamper: (h) => (h['x-zo-signature'] = (h['x-zo-signature'] ?? '').toUpperCase()) }) },
    { via: 'webhook', attack: 'a non-numeric timestamp', ...httpStatus(401), run: () => webhook({ tamper: (h) => (h['x-zo-timestamp'] = '1e12') }) },
    { via: 'webhook', attack: 'a byte-for-byte replay of a genuine delivery', ...httpStatus(200, /duplicate/), run: () => viaRaw({ path: '/webhooks/zopay', headers: delivered.headers, body: delivered.raw }) },
    {
      via: 'webhook',
      attack: 'a genuine delivery re-signed with a fresh timestamp (same delivery id)',
      ...httpStatus(200, /duplicate/),
      run: () => webhook({ raw: delivered.raw, deliveryId: 'genuine-1' }),
    },
    {
      via: 'webhook',
      attack: 'a genuine delivery replayed after the tolerance window',
      ...httpStatus(401),
      run: () => webhook({ raw: delivered.raw, deliveryId: 'genuine-1', timestampMs: Date.now() - 10 * 60_000 }),
    },
  ];
  it.each(rows(attacks))('%s', runRow);

  it('webhook · a genuine signature replayed under a new delivery id → 2xx, the final status unchanged, nothing published', async () => {
    await watch.mark();
    const res = await rawRequest(stack.url, { path: '/webhooks/zopay', headers: { ...delivered.headers, 'x-zo-delivery-id': 'forged-delivery-id' }, body: delivered.raw });
    expect(res.status).toBeLessThan(300);
    const writes = await watch.writesSinceMark();
    expect(writes.filter((w) => /^(publish|spublish)\b/i.test(w))).toEqual([]);
    expect((await stack.gateway.state.stores.payouts.get(delivered.payoutId))?.status).toBe('SUCCESS');
  });
});

describe("cross-caller reads and subscriptions: another caller's payout looks like a missing one", () => {
  const SUB = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }';
  const attacks: Attack[] = [
    {
      via: 'HTTP',
      attack: "Bob reads Alice's payout",
      outcome: 'null, exactly like a random id',
      run: () => viaHttp(PAYOUT, { id: alicePayout }, bob),
      expect: { kind: 'same-as-missing', missing: () => viaHttp(PAYOUT, { id: 'no-such-payout' }, bob) },
    },
    {
      via: 'HTTP',
      attack: "Bob lists payouts (Alice's are not his)",
      outcome: 'an empty list',
      run: () => viaHttp('query { payouts(first: 100) { totalCount edges { node { id } } } }', {}, bob),
      expect: { kind: 'same-as-missing', missing: async () => ({ status: 200, data: { payouts: { totalCount: 0, edges: [] } } }) },
    },
    {
      via: 'WebSocket',
      attack: "Bob subscribes to Alice's payout",
      outcome: 'NOT_FOUND, exactly like a random id',
      run: () => viaWs(SUB, { id: alicePayout }, bob),
      expect: { kind: 'same-as-missing', missing: () => viaWs(SUB, { id: 'no-such-payout' }, bob) },
    },
    {
      via: 'SSE',
      attack: "Bob subscribes to Alice's payout",
      outcome: 'NOT_FOUND, exactly like a random id',
      run: () => viaSse(SUB, { id: alicePayout }, bob),
      expect: { kind: 'same-as-missing', missing: () => viaSse(SUB, { id: 'no-such-payout' }, bob) },
    },
  ];
  it.each(rows(attacks))('%s', runRow);

  it('none of these created a Redis channel subscription for the payout', async () => {
    expect(await redis.numSub(`zopay:payout:${alicePayout}`)).toBe(0);
  });
});

describe('invalid MSISDNs', () => {
  const msisdns: [string, unknown][] = [
    ['letters', '+23767000000a'],
    ['spaces', '+237 670 000 001'],
    ['hyphens', '+237-670-000-001'],
    ['a double plus', '++237670000001'],
    ['Arabic-Indic digits', '+٢٣٧٦٧٠٠٠٠٠٠١'],
    ['Extended Arabic-Indic digits', '+۲۳۷۶۷۰۰۰۰۰۰۱'],
    ['full-width digits', '＋２３７６７００００００１'],
    ['a zero-width space', '+237670000\u200b001'],
    ['a zero-width joiner', '+237670000\u200d001'],
    ['a right-to-left mark', '\u200f+237670000001'],
    ['a byte-order mark', '\ufeff+237670000001'],
    ['a trailing newline', '+237670000001\n'],
    ['a trailing NUL', '+237670000001\u0000'],
    ['too short', '+2376700'],
    ['too long', '+2376700000011234'],
    ['a Cameroon number one digit long', '+2376700000012'],
    ['a leading zero', '+0237670000001'],
    ['empty', ''],
    ['a lone plus', '+'],
    ['a tel: URI', 'tel:+237670000001'],
    ['a JSON number', 237670000001],
    ['an object', { e164: '+237670000001' }],
  ];
  // Well-formed E.164, but not a country this gateway pays to (RECIPIENT_COUNTRY_CODES, +237 by default):
  // a quote is refused like malformed input; an execute is checked with its key (below).
  const foreign: [string, string][] = [
    ['a French number', '+33612345678'],
    ['a US number', '+14155550100'],
    ["an Ivory Coast number (a country ZoPay's MTN serves, not configured here)", '+2250701234567'],
  ];
  const attacks: Attack[] = msisdns.flatMap(([name, msisdn]): Attack[] => [
    { via: 'HTTP', attack: `createQuote with ${name}`, ...badInput('msisdn'), run: () => viaHttp(QUOTE, { input: { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn } } }) },
    { via: 'HTTP', attack: `executeDisbursement with ${name}`, ...badInput('msisdn'), run: () => viaHttp(EXECUTE, { input: { quoteId: aliceQuote, idempotencyKey: `msisdn-${name}`, recipient: { msisdn } } }) },
    { via: 'WebSocket', attack: `executeDisbursement with ${name}`, ...badInput('msisdn'), run: () => viaWs(EXECUTE, { input: { quoteId: aliceQuote, idempotencyKey: `msisdn-ws-${name}`, recipient: { msisdn } } }) },
  ]);
  const quotes: Attack[] = foreign.map(([name, msisdn]) => ({ via: 'HTTP', attack: `createQuote with ${name}`, ...badInput('msisdn'), run: () => viaHttp(QUOTE, { input: { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn } } }) }));
  it.each(rows([...attacks, ...quotes]))('%s', runRow);

  it.each(foreign)('executeDisbursement with %s: BAD_USER_INPUT on the msisdn, no upstream call, no write to any idempotency key', async (name, msisdn) => {
    const upstreamBefore = stack.sandbox.requests.length;
    await watch.mark();
    const res = await gql(stack.url, EXECUTE, { input: { quoteId: aliceQuote, idempotencyKey: `foreign-${name}`, recipient: { msisdn } } }, alice);
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(res.errors)).toMatch(/msisdn/);
    expect(stack.sandbox.requests.length).toBe(upstreamBefore);
    expect((await watch.writesSinceMark()).filter((w) => w.includes(':idem:'))).toEqual([]);
  });
});

describe('T16: an execute whose quote cannot be executed claims no key and sends nothing', () => {
  const cases: [string, () => Promise<{ quoteId: string; token: string; msisdn: string }>, string][] = [
    ["Bob executes Alice's quote", async () => ({ quoteId: aliceQuote, token: bob, msisdn: MSISDN_OK }), 'QuoteNotFoundError'],
    ['an unknown quote id', async () => ({ quoteId: 'no-such-quote', token: alice, msisdn: MSISDN_OK }), 'QuoteNotFoundError'],
    ['another recipient than the quote', async () => ({ quoteId: aliceQuote, token: alice, msisdn: '+237670000002' }), 'InvalidRecipientError'],
    [
      'an expired quote',
      async () => {
        const quoteId = 'expired-quote-t16';
        await stack.gateway.state.stores.quotes.put({ quoteId, owner: 'attack-alice', recipientMsisdn: MSISDN_OK, expiresAt: new Date(Date.now() - 1_000).toISOString() }, 60);
        return { quoteId, token: alice, msisdn: MSISDN_OK };
      },
      'QuoteExpiredError',
    ],
  ];
  it.each(cases)('%s: the typed error, no upstream call, no write to any idempotency key', async (name, setUp, typename) => {
    const { quoteId, token, msisdn } = await setUp();
    const upstreamBefore = stack.sandbox.requests.length;
    await watch.mark();
    const res = await gql<{ executeDisbursement: { __typename: string } }>(stack.url, EXECUTE, { input: { quoteId, idempotencyKey: `t16-${name}`, recipient: { msisdn } } }, token);
    expect(res.data?.executeDisbursement.__typename).toBe(typename);
    expect(stack.sandbox.requests.length).toBe(upstreamBefore);
    const writes = await watch.writesSinceMark();
    expect(writes.some((w) => w.includes(':rl:mutations:'))).toBe(true); // the probe sees the script's writes
    expect(writes.filter((w) => w.includes(':idem:'))).toEqual([]);
  });
});

describe('idempotency-key abuse', () => {
  const keys: [string, unknown][] = [
    ['an empty key', ''],
    ['a 10 KB key', 'k'.repeat(10_000)],
    ['a 256-character key', 'k'.repeat(256)],
    ['a NUL byte', 'order\u00001'],
    ['a newline', 'order\n1'],
    ['a tab', 'order\t1'],
    ['DEL', 'order\u007f1'],
    ['an ANSI escape', '\u001b[31morder-1'],
    ['non-ASCII letters', 'clé-1'],
    ['an emoji', 'order-💸'],
    ['a right-to-left override', 'order-\u202e1'],
    ['a zero-width space', 'order\u200b-1'],
    ['full-width letters', 'ｏｒｄｅｒ'],
    ['a number instead of a string', 1234],
    ['null', null],
  ];
  const attacks: Attack[] = keys.flatMap(([name, idempotencyKey]): Attack[] => {
    const variables = () => ({ input: { quoteId: aliceQuote, idempotencyKey, recipient: { msisdn: MSISDN_OK } } });
    return [
      { via: 'HTTP', attack: `execute with ${name}`, ...badInput('idempotencyKey'), run: () => viaHttp(EXECUTE, variables()) },
      { via: 'WebSocket', attack: `execute with ${name}`, ...badInput('idempotencyKey'), run: () => viaWs(EXECUTE, variables()) },
    ];
  });
  it.each(rows(attacks))('%s', runRow);
});

describe('introspection in production', () => {
  const SCHEMA = '{ __schema { types { name fields { name } } } }';
  const TYPE = '{ __type(name: "ExecuteDisbursementInput") { inputFields { name } } }';
  const attacks: Attack[] = [
    { via: 'HTTP', attack: '__schema', ...INTROSPECTION_OFF, run: () => viaHttp(SCHEMA) },
    { via: 'HTTP', attack: '__type', ...INTROSPECTION_OFF, run: () => viaHttp(TYPE) },
    { via: 'HTTP', attack: '__schema without a token', ...INTROSPECTION_OFF, run: () => viaHttp(SCHEMA, {}, null) },
    { via: 'WebSocket', attack: '__schema', ...INTROSPECTION_OFF, run: () => viaWs(SCHEMA) },
    { via: 'WebSocket', attack: '__type', ...INTROSPECTION_OFF, run: () => viaWs(TYPE) },
    { via: 'SSE', attack: '__schema', ...INTROSPECTION_OFF, run: () => viaSse(SCHEMA, {}, alice) },
  ];
  it.each(rows(attacks))('%s', runRow);
});

describe('CSRF-style requests', () => {
  const execute = () => JSON.stringify({ query: EXECUTE, variables: { input: { quoteId: aliceQuote, idempotencyKey: 'csrf-1', recipient: { msisdn: MSISDN_OK } } } });
  const csrf = httpStatus(403, /Required CSRF header\(s\) not present/);
  const attacks: Attack[] = [
    { via: 'HTTP', attack: 'a text/plain POST of an execute', ...csrf, run: () => viaRaw({ headers: { 'content-type': 'text/plain', authorization: `Bearer ${alice}`, origin: 'https://evil.example' }, body: execute() }) },
    {
      via: 'HTTP',
      attack: 'a multipart/form-data POST of an execute',
      ...csrf,
      run: () => viaRaw({ headers: { 'content-type': 'multipart/form-data; boundary=b', authorization: `Bearer ${alice}` }, body: `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${execute()}\r\n--b--\r\n` }),
    },
    { via: 'HTTP', attack: 'an urlencoded form POST of an execute', ...csrf, run: () => viaRaw({ headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${alice}` }, body: new URLSearchParams({ query: EXECUTE }).toString() }) },
    { via: 'HTTP', attack: 'a GET of a mutation without the CSRF header', ...csrf, run: () => viaRaw({ method: 'GET', path: `/graphql?${new URLSearchParams({ query: QUOTE, variables: JSON.stringify(quoteInput()) }).toString()}`, headers: { authorization: `Bearer ${alice}` } }) },
  ];
  it.each(rows(attacks))('%s', runRow);
});

describe('authentication, batching and the money rule', () => {
  const executeVars = () => ({ input: { quoteId: aliceQuote, idempotencyKey: 'unauth-1', recipient: { msisdn: MSISDN_OK } } });
  const attacks: Attack[] = [
    { via: 'HTTP', attack: 'an execute without a token', ...rejected('UNAUTHENTICATED'), run: () => viaHttp(EXECUTE, executeVars(), null) },
    { via: 'HTTP', attack: 'an execute with a token signed by someone else', ...rejected('UNAUTHENTICATED'), run: () => viaHttp(EXECUTE, executeVars(), `${alice.slice(0, alice.lastIndexOf('.'))}.${'A'.repeat(43)}`) },
    { via: 'SSE', attack: 'a subscription without a token', ...rejected('UNAUTHENTICATED'), run: () => viaSse('subscription S($id: ID!) { payoutStatus(payoutId: $id) { id } }', { id: alicePayout }) },
    { via: 'HTTP', attack: 'an execute with a correctly signed token that has no expiry', ...rejected('UNAUTHENTICATED'), run: () => viaHttp(EXECUTE, executeVars(), aliceForever) },
    { via: 'SSE', attack: 'a subscription with a correctly signed token that has no expiry', ...rejected('UNAUTHENTICATED'), run: () => viaSse('subscription S($id: ID!) { payoutStatus(payoutId: $id) { id } }', { id: alicePayout }, aliceForever) },
    {
      via: 'HTTP',
      attack: 'a batch of two executes',
      ...httpStatus(400, /batching is not supported/i),
      run: () =>
        viaRaw({
          headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
          body: JSON.stringify([1, 2].map((n) => ({ query: EXECUTE, variables: { input: { quoteId: aliceQuote, idempotencyKey: `batch-${n}`, recipient: { msisdn: MSISDN_OK } } } }))),
        }),
    },
    {
      via: 'HTTP',
      attack: 'executeDisbursement aliased twice with one key',
      ...rejected('GRAPHQL_VALIDATION_FAILED'),
      run: () => viaHttp(`mutation M($i: ExecuteDisbursementInput!) { a: executeDisbursement(input: $i) { __typename } b: executeDisbursement(input: $i) { __typename } }`, { i: executeVars().input }),
    },
    {
      via: 'WebSocket',
      attack: 'executeDisbursement aliased twice with one key',
      ...rejected('GRAPHQL_VALIDATION_FAILED'),
      run: () => viaWs(`mutation M($i: ExecuteDisbursementInput!) { a: executeDisbursement(input: $i) { __typename } b: executeDisbursement(input: $i) { __typename } }`, { i: executeVars().input }),
    },
  ];
  it.each(rows(attacks))('%s', runRow);
});

describe('after every attack', () => {
  it("Alice's payout is still PROCESSING and her quote is still unused: it executes once, normally", async () => {
    expect((await stack.gateway.state.stores.payouts.get(alicePayout))?.status).toBe('PROCESSING');
    const res = await gql<{ executeDisbursement: { __typename: string } }>(stack.url, EXECUTE, { input: { quoteId: aliceQuote, idempotencyKey: 'after-attacks', recipient: { msisdn: MSISDN_OK } } }, alice);
    expect(res.data?.executeDisbursement.__typename).toBe('Payout');
    expect(stack.sandbox.requests.filter((r) => r.route === 'execute' && r.body.includes(aliceQuote))).toHaveLength(1);
  });
});
