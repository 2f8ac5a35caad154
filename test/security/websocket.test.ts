/**
 * graphql-ws and SSE under attack (production): handshake abuse, token expiry, subscription caps per
 * connection and per caller, maxPayload, the same limits/validation/masking as HTTP, and close reasons
 * that never carry internals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { SignJWT } from 'jose';
import { EXECUTE, QUOTE, gql, quoteInput } from '../helpers/gateway.js';
import {
  MSISDN_OK,
  MSISDN_PENDING,
  SECRETS,
  ackedWs,
  healthy,
  payVia,
  quoteVia,
  rawWs,
  sse,
  startSecureStack,
  waitFor,
  wsOperation,
  type RawWs,
  type SecureStack,
} from './support.js';

const PER_CONNECTION = 2;
const PER_CALLER = 3;
const MAX_BODY = 20_000;
const SUB = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal } }';

let stack: SecureStack;
let alice: string;
const opened: RawWs[] = [];

beforeAll(async () => {
  stack = await startSecureStack({
    env: {
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
      SUBSCRIPTIONS_PER_CALLER: String(PER_CALLER),
      MAX_BODY_BYTES: String(MAX_BODY),
    },
    sandbox: { webhookUrl: null },
  });
  stack.sandbox.setWebhookUrl(`${stack.url}/webhooks/zopay`);
  alice = await stack.token('ws-alice');
});
afterAll(async () => {
  for (const ws of opened) ws.close();
  await stack.close();
});

async function connect(token: string): Promise<RawWs> {
  const ws = await ackedWs(stack.url, token);
  opened.push(ws);
  return ws;
}

/** A close reason is a short, fixed phrase: no stack, no file path, no error class, no token or secret. */
function expectCleanReason(reason: string): void {
  expect(reason.length).toBeLessThanOrEqual(123);
  expect(reason).not.toMatch(/\bat\s+\S+\s+\(|node_modules|\/src\/|\.ts:\d+|Error:|GraphQLError|Syntax Error|Bearer|eyJ/);
  for (const secret of Object.values(SECRETS)) expect(reason).not.toContain(secret);
}

describe('graphql-ws handshake abuse', () => {
  it('a socket that never sends connection_init is closed with 4408 after about 3 s', async () => {
    const ws = await rawWs(stack.url);
    const started = Date.now();
    const closed = await ws.closed;
    expect(closed.code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(Date.now() - started).toBeLessThan(4_500);
    expectCleanReason(closed.reason);
  });

  const forged = () =>
    new SignJWT({ scope: 'payouts:write payouts:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ws-alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('an-attacker-secret-that-is-32-chars-long'));
  const handshakes: { attack: string; frames: () => Promise<unknown[]>; code: number }[] = [
    { attack: 'connection_init without a token', frames: async () => [{ type: 'connection_init' }], code: 4403 },
    { attack: 'a token that is not a JWT', frames: async () => [{ type: 'connection_init', payload: { authorization: 'Bearer not-a-jwt' } }], code: 4403 },
    { attack: 'a JWT signed with another secret', frames: async () => [{ type: 'connection_init', payload: { authorization: `Bearer ${await forged()}` } }], code: 4403 },
    { attack: 'an expired token', frames: async () => [{ type: 'connection_init', payload: { authorization: `Bearer ${await stack.token('ws-alice', 'payouts:write', -60)}` } }], code: 4403 },
    { attack: 'a valid token without the Bearer scheme', frames: async () => [{ type: 'connection_init', payload: { authorization: alice } }], code: 4403 },
    { attack: 'a token as a non-string value', frames: async () => [{ type: 'connection_init', payload: { authorization: { toString: 'Bearer x' } } }], code: 4403 },
    { attack: 'subscribe before connection_ack', frames: async () => [{ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }], code: 4401 },
    { attack: 'a garbage frame', frames: async () => ['{{{ not json'], code: 4400 },
    { attack: 'a frame of an unknown type', frames: async () => [{ type: 'hack' }], code: 4400 },
    {
      attack: 'a second connection_init',
      frames: async () => [
        { type: 'connection_init', payload: { authorization: `Bearer ${alice}` } },
        { type: 'connection_init', payload: { authorization: `Bearer ${alice}` } },
      ],
      code: 4429,
    },
    {
      attack: 'two subscriptions with the same id',
      frames: async () => {
        const id = await payVia(stack.url, alice, `dup-id-${Date.now()}`);
        const sub = { id: 'same', type: 'subscribe', payload: { query: SUB, variables: { id } } };
        return [{ type: 'connection_init', payload: { authorization: `Bearer ${alice}` } }, sub, sub];
      },
      code: 4409,
    },
  ];

  it.each(handshakes)('$attack → closed with $code and a reason without internals', async ({ frames, code }) => {
    const list = await frames();
    const ws = await rawWs(stack.url);
    for (const f of list) {
      ws.send(f);
      await new Promise((r) => setTimeout(r, 30));
    }
    const closed = await ws.closed;
    expect(closed.code).toBe(code);
    expectCleanReason(closed.reason);
    expect(await healthy(stack.url)).toBe(true);
  });

  it('a WebSocket without the graphql-transport-ws subprotocol is refused with 4406', async () => {
    const ws = await rawWs(stack.url, null);
    const closed = await ws.closed;
    expect(closed.code).toBe(4406);
    expectCleanReason(closed.reason);
  });
});

describe('the socket does not outlive its token', () => {
  it('closes with 4403 at the token expiry; a fresh token resumes from the snapshot', async () => {
    const id = await payVia(stack.url, alice, 'expiry-1');
    const short = await stack.token('ws-alice', 'payouts:write', 2);
    const ws = await connect(short);
    const first = await wsOperation(ws, 's', SUB, { id });
    expect(first.data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    const started = Date.now();
    const closed = await ws.closed;
    expect(closed.code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(3_000);
    expectCleanReason(closed.reason);

    const again = await connect(alice);
    expect((await wsOperation(again, 's', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    stack.sandbox.settle(id, 'SUCCESS');
    const final = await again.next((m) => m['id'] === 's' && m['type'] === 'next' && JSON.stringify(m).includes('SUCCESS'));
    expect(final['payload']).toEqual({ data: { payoutStatus: { id, status: 'SUCCESS', isFinal: true } } });
  });

  it('a token valid for 40 days (past the 24.8-day reach of one timer) keeps its socket and its SSE stream', async () => {
    const id = await payVia(stack.url, alice, 'expiry-long');
    const long = await stack.token('ws-alice', 'payouts:write', 40 * 86_400);
    const ws = await connect(long);
    expect((await wsOperation(ws, 's', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    const s = sse(stack.url, SUB, { id }, long);
    await waitFor(() => s.payloads.length > 0, 5_000, 'SSE snapshot');
    await new Promise((resolve) => setTimeout(resolve, 300));
    stack.sandbox.settle(id, 'SUCCESS');
    const final = await ws.next((m) => m['id'] === 's' && m['type'] === 'next' && JSON.stringify(m).includes('SUCCESS'));
    expect(final['payload']).toEqual({ data: { payoutStatus: { id, status: 'SUCCESS', isFinal: true } } });
    expect(await s.done).toBe('complete');
    expect(s.payloads.map((p) => p.errors)).toEqual([undefined, undefined]);
    expect(s.payloads[1]?.data).toEqual({ payoutStatus: { id, status: 'SUCCESS', isFinal: true } });
    expect((await wsOperation(ws, 'after', '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

describe('operation ids', () => {
  /** Sends the frames in one TCP write, so that the server reads (and handles) them in one go. */
  function sendTogether(ws: RawWs, frames: unknown[]): void {
    const tcp = (ws.socket as unknown as { _socket: Socket })._socket;
    tcp.cork();
    for (const f of frames) ws.send(f);
    tcp.uncork();
  }

  it('an id reused in the same read as its own complete closes the socket with 4409, never a complete for the new one', async () => {
    const id = await payVia(stack.url, alice, 'reuse-1');
    const ws = await connect(alice);
    expect((await wsOperation(ws, 'x', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    const seen = ws.messages.length;
    sendTogether(ws, [
      { id: 'x', type: 'complete' },
      { id: 'x', type: 'subscribe', payload: { query: SUB, variables: { id } } },
    ]);
    const closed = await ws.closed;
    expect(closed.code).toBe(4409);
    expectCleanReason(closed.reason);
    expect(ws.messages.slice(seen)).toEqual([]);
  });

  it('an id reused once its operation is over is a new subscription', async () => {
    const id = await payVia(stack.url, alice, 'reuse-2');
    const ws = await connect(alice);
    expect((await wsOperation(ws, 'y', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    ws.send({ id: 'y', type: 'complete' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await wsOperation(ws, 'y', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    stack.sandbox.settle(id, 'SUCCESS');
    await ws.next((m) => m['id'] === 'y' && m['type'] === 'complete');
    const ys = ws.messages.filter((m) => m['id'] === 'y').map((m) => `${String(m['type'])}${JSON.stringify(m['payload'] ?? '').includes('SUCCESS') ? ' SUCCESS' : ''}`);
    expect(ys).toEqual(['next', 'next', 'next SUCCESS', 'complete']);
  });
});

describe('subscription caps', () => {
  it(`per connection: subscription ${PER_CONNECTION + 1} is RATE_LIMITED, the socket and the first ${PER_CONNECTION} stay live, and a finished one frees its slot`, async () => {
    const ids = await Promise.all([1, 2, 3].map((i) => payVia(stack.url, alice, `conn-cap-${i}`)));
    const ws = await connect(alice);
    expect((await wsOperation(ws, 'a', SUB, { id: ids[0] })).data).toBeTruthy();
    expect((await wsOperation(ws, 'b', SUB, { id: ids[1] })).data).toBeTruthy();
    const third = await wsOperation(ws, 'c', SUB, { id: ids[2] });
    expect(third.type).toBe('error');
    expect(third.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(third.errors?.[0]?.extensions?.['retryAfter']).toEqual(expect.any(Number));

    stack.sandbox.settle(ids[0] as string, 'SUCCESS');
    await ws.next((m) => m['id'] === 'a' && m['type'] === 'complete');
    expect((await wsOperation(ws, 'd', SUB, { id: ids[2] })).data).toBeTruthy();
    ws.send({ id: 'b', type: 'complete' });
    ws.send({ id: 'd', type: 'complete' });
  });

  it('per connection: a subscribe spelled with JSON escapes ("\\u0073ubscribe") counts like any other', async () => {
    // graphql-ws reads the escaped frame as a subscribe; the gateway's bookkeeping used to look for the
    // literal text and let such frames past the cap (and past its reused-id check).
    const ids = await Promise.all([1, 2, 3].map((i) => payVia(stack.url, alice, `conn-cap-esc-${i}`)));
    const ws = await connect(alice);
    const escaped = (id: string, payoutId: string) => JSON.stringify({ id, type: 'subscribe', payload: { query: SUB, variables: { id: payoutId } } }).replace('"subscribe"', '"\\u0073ubscribe"');
    expect(escaped('e1', 'p')).toContain('\\u0073ubscribe');
    for (const [i, payoutId] of ids.slice(0, PER_CONNECTION).entries()) {
      ws.send(escaped(`e${i}`, payoutId));
      const first = await ws.next((m) => m['id'] === `e${i}`);
      expect(first['payload']).toEqual({ data: { payoutStatus: { id: payoutId, status: 'PROCESSING', isFinal: false } } });
    }
    ws.send(escaped('over', ids[2] as string));
    const over = await ws.next((m) => m['id'] === 'over');
    expect(over['type']).toBe('error');
    expect((over['payload'] as { extensions?: Record<string, unknown> }[])[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    // And an id in use, reused with an escaped subscribe, is refused as the protocol says.
    ws.send(escaped('e0', ids[0] as string));
    expect((await ws.closed).code).toBe(4409);
  });

  it('per connection: subscriptions that failed (NOT_FOUND) do not use up the cap', async () => {
    const id = await payVia(stack.url, alice, 'conn-cap-nf');
    const ws = await connect(alice);
    for (let i = 0; i < PER_CONNECTION + 2; i++) {
      const res = await wsOperation(ws, `nf-${i}`, SUB, { id: `missing-${i}` });
      expect(JSON.stringify(res.errors)).toContain('NOT_FOUND');
    }
    expect((await wsOperation(ws, 'ok', SUB, { id })).data).toEqual({ payoutStatus: { id, status: 'PROCESSING', isFinal: false } });
    ws.close();
  });

  it('a subscription whose root field is under @skip or @include is the client\'s validation error, not an internal one (graphql-ws and SSE)', async () => {
    const id = await payVia(stack.url, alice, 'skip-root');
    const documents = [
      'subscription S($id: ID!) { payoutStatus(payoutId: $id) @skip(if: true) { id } }',
      // (With a variable in the directive, graphql-js 16's own single-field rule fails first, as BAD_USER_INPUT.)
      'subscription S($id: ID!) { ... on Subscription @include(if: false) { payoutStatus(payoutId: $id) { id } } }',
      'subscription S($id: ID!) { ...F } fragment F on Subscription { payoutStatus(payoutId: $id) @skip(if: false) { id } }',
    ];
    const message = 'A subscription\'s root field cannot be skipped or included conditionally (@skip, @include).';
    const ws = await connect(alice);
    for (const [i, document] of documents.entries()) {
      const variables = { id };
      const overWs = await wsOperation(ws, `skip-${i}`, document, variables);
      expect(overWs.type).toBe('error');
      expect(overWs.errors?.map((e) => [e.message, e.extensions?.['code']])).toEqual([[message, 'GRAPHQL_VALIDATION_FAILED']]);
      const overSse = sse(stack.url, document, variables, alice);
      await overSse.done;
      expect(overSse.payloads.map((p) => p.errors?.map((e) => [e.message, e.extensions?.['code']]))).toEqual([[[message, 'GRAPHQL_VALIDATION_FAILED']]]);
    }
    expect(stack.gateway.metrics.sources.subscriptions()).toBe(0);
    ws.close();
  });

  it('a missing payout fails the subscription the same way for every scope: a result with NOT_FOUND, then complete (graphql-ws and SSE)', async () => {
    // payouts:read may see every payout, so nothing is refused before the snapshot finds none; payouts:write
    // sees its own only, so the owner check refuses first. A client saw two shapes before (an `error`
    // frame for the first), though both mean the same.
    type Result = { data?: unknown; errors?: { message: string; path?: unknown; extensions?: Record<string, unknown> }[] };
    const shape = (r: Result | undefined) => ({ data: r?.data ?? null, errors: r?.errors?.map((e) => ({ message: e.message, path: e.path, code: e.extensions?.['code'] })) });
    const expected = { data: null, errors: [{ message: 'No payout with this id.', path: ['payoutStatus'], code: 'NOT_FOUND' }] };
    for (const scope of ['payouts:read', 'payouts:write']) {
      const token = await stack.token(`nf-shape-${scope}`, scope);
      const ws = await connect(token);
      ws.send({ id: 'nf', type: 'subscribe', payload: { query: SUB, variables: { id: 'no-such-payout' } } });
      await ws.next((m) => m['id'] === 'nf' && (m['type'] === 'complete' || m['type'] === 'error'));
      const frames = ws.messages.filter((m) => m['id'] === 'nf');
      expect(frames.map((m) => m['type']), scope).toEqual(['next', 'complete']);
      expect(shape(frames[0]?.['payload'] as Result), scope).toEqual(expected);
      ws.close();
      const stream = sse(stack.url, SUB, { id: 'no-such-payout' }, token);
      expect(await stream.done, scope).toBe('complete');
      expect(stream.payloads.map(shape), scope).toEqual([expected]);
    }
  });

  it(`per caller across WebSockets and SSE: live subscription ${PER_CALLER + 1} is RATE_LIMITED on both; other callers are unaffected; a disconnect frees the slot`, async () => {
    const carol = await stack.token('ws-carol');
    const ids = await Promise.all([1, 2, 3, 4].map((i) => payVia(stack.url, carol, `caller-cap-${i}`)));
    const w1 = await connect(carol);
    const w2 = await connect(carol);
    expect((await wsOperation(w1, 'a', SUB, { id: ids[0] })).data).toBeTruthy();
    expect((await wsOperation(w2, 'b', SUB, { id: ids[1] })).data).toBeTruthy();
    const s1 = sse(stack.url, SUB, { id: ids[2] }, carol);
    await waitFor(() => s1.payloads.length > 0, 5_000, 'SSE snapshot');
    expect(s1.payloads[0]?.data).toBeTruthy();

    const overWs = await wsOperation(w2, 'c', SUB, { id: ids[3] });
    expect(JSON.stringify(overWs.errors)).toContain('RATE_LIMITED');
    const overSse = sse(stack.url, SUB, { id: ids[3] }, carol);
    expect(await overSse.done).toBe('complete');
    expect(overSse.payloads[0]?.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(overSse.payloads.some((p) => p.data)).toBe(false);

    const dave = await stack.token('ws-dave', 'payouts:read');
    const wd = await connect(dave);
    expect((await wsOperation(wd, 'x', SUB, { id: ids[3] })).data).toBeTruthy();

    s1.close();
    await waitFor(async () => (await wsOperation(w2, `retry-${Date.now()}`, SUB, { id: ids[3] })).data !== undefined, 3_000, 'the freed slot');
    for (const w of [w1, w2, wd]) w.close();
  });
});

describe('maxPayload', () => {
  it('a 10 MB frame closes that socket with 1009; the process and other sockets carry on', async () => {
    const bystander = await connect(alice);
    const ws = await connect(alice);
    ws.socket.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(10 * 1024 * 1024) } } }));
    const closed = await ws.closed;
    expect(closed.code).toBe(1009);
    expectCleanReason(closed.reason);
    expect(await healthy(stack.url)).toBe(true);
    expect((await wsOperation(bystander, 'still', '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('a frame just under MAX_BODY_BYTES is processed', async () => {
    const ws = await connect(alice);
    const res = await wsOperation(ws, 'near', `# ${'p'.repeat(MAX_BODY - 500)}\n{ __typename }`);
    expect(res.data).toEqual({ __typename: 'Query' });
  });
});

describe('graphql-ws applies the same limits, validation and masking as HTTP', () => {
  // Each bomb trips one limit (default limits) and fits in one frame under MAX_BODY_BYTES.
  const bombs: [string, string][] = [
    ['a deep query (depth 30)', `query { ${'a { '.repeat(30)}b${' }'.repeat(30)} }`],
    ['an alias bomb (50 aliases)', `query { ${Array.from({ length: 50 }, (_, i) => `a${i}: payout(id: "p${i}") { id }`).join(' ')} }`],
    ['a directive bomb (50 directives)', `query { ${'... @include(if: true) { __typename } '.repeat(50)}}`],
    ['a token bomb (5 000 tokens)', `query { ${'a '.repeat(5_000)}}`],
    ['a wide (costly) query', `query { ${Array.from({ length: 12 }, (_, i) => `p${i}: payouts(first: 100) { edges { node { id status amount recipient { msisdn } failure { code message } } } }`).join(' ')} }`],
    ['introspection (__schema)', '{ __schema { types { name } } }'],
    ['introspection (__type)', '{ __type(name: "Payout") { fields { name } } }'],
    ['a misspelled field', '{ payot(id: "x") { id } }'],
  ];

  it.each(bombs)('%s: the same error frame as HTTP, and the socket stays open', async (_name, query) => {
    const overHttp = await gql(stack.url, query, {}, alice);
    const ws = await connect(alice);
    const overWs = await wsOperation(ws, 'op', query);
    expect(overWs.type).toBe('error');
    const strip = (errs: { message: string; extensions?: Record<string, unknown> }[] | undefined) =>
      (errs ?? []).map((e) => ({ message: e.message, code: e.extensions?.['code'] }));
    expect(strip(overWs.errors)).toEqual(strip(overHttp.errors));
    // Nothing more either: no HTTP status or other mark of the transport in the frame.
    expect(overWs.errors?.map((e) => e.extensions)).toEqual(overHttp.errors?.map((e) => e.extensions));
    for (const e of overWs.errors ?? []) expect(e.message).not.toMatch(/did you mean|\d+ exceeded|found \d/i);
    expect((await wsOperation(ws, 'after', '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('two aliased executeDisbursement over graphql-ws are rejected, nothing sent upstream', async () => {
    const quoteId = await quoteVia(stack.url, alice);
    const before = stack.sandbox.requests.length;
    const ws = await connect(alice);
    const input = (k: string) => `input: { quoteId: "${quoteId}", idempotencyKey: "${k}", recipient: { msisdn: "${MSISDN_OK}" } }`;
    const res = await wsOperation(ws, 'twice', `mutation { a: executeDisbursement(${input('w1')}) { __typename } b: executeDisbursement(${input('w2')}) { __typename } }`);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it.each([
    ['in variables', QUOTE, quoteInput('+23767000000a')],
    ['inline', `mutation { createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "+23767000000a" } }) { __typename } }`, {}],
  ])('an invalid msisdn %s is BAD_USER_INPUT over graphql-ws, as over HTTP, with nothing sent upstream', async (_name, query, variables) => {
    const before = stack.sandbox.requests.length;
    const ws = await connect(alice);
    const res = await wsOperation(ws, 'bad', query, variables);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((await gql(stack.url, query, variables, alice)).errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it.each([
    ['too long', 'p'.repeat(129)],
    ['a path', '../payouts'],
    ['empty', ''],
  ])('an invalid payout id (%s) on payoutStatus is BAD_USER_INPUT over graphql-ws and SSE, with the issue the payout query gives; nothing read', async (_name, id) => {
    const before = stack.sandbox.requests.length;
    const ws = await connect(alice);
    const overWs = await wsOperation(ws, 'bad-id', SUB, { id });
    const overSse = sse(stack.url, SUB, { id }, alice);
    expect(await overSse.done).toBe('complete');
    const overHttp = await gql(stack.url, 'query Q($id: ID!) { payout(id: $id) { id } }', { id }, alice);
    const issues = (errors: { message: string; extensions?: Record<string, unknown> }[] | undefined) =>
      ((errors?.[0]?.extensions?.['issues'] ?? []) as { path: string; message: string }[]).map((i) => i.message);
    const expected = issues(overHttp.errors);
    expect(expected.length).toBeGreaterThan(0);
    for (const errors of [overWs.errors, overSse.payloads[0]?.errors]) {
      expect(errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.message).toBe(`Invalid input: ${expected.map((m) => `payoutId: ${m}`).join('; ')}`);
      expect(issues(errors)).toEqual(expected);
    }
    expect(overSse.payloads.every((p) => p.data === undefined || p.data === null)).toBe(true);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('an execute over graphql-ws is idempotent with the same execute over HTTP (one payout, one upstream execute)', async () => {
    const quoteId = await quoteVia(stack.url, alice, MSISDN_PENDING);
    const variables = { input: { quoteId, idempotencyKey: 'ws-http-1', recipient: { msisdn: MSISDN_PENDING } } };
    const ws = await connect(alice);
    const overWs = await wsOperation(ws, 'exec', EXECUTE, variables);
    const overHttp = await gql<{ executeDisbursement: { id: string } }>(stack.url, EXECUTE, variables, alice);
    const wsPayout = (overWs.data as { executeDisbursement: { id: string; __typename: string } }).executeDisbursement;
    expect(wsPayout.__typename).toBe('Payout');
    expect(overHttp.data?.executeDisbursement.id).toBe(wsPayout.id);
    expect(stack.sandbox.requests.filter((r) => r.route === 'execute' && r.body.includes(quoteId))).toHaveLength(1);
  });
});

describe('SSE gets the same auth, caps and masking', () => {
  const noData = (s: ReturnType<typeof sse>) => s.payloads.every((p) => p.data === undefined || p.data === null);

  it.each([
    ['no token', async () => undefined],
    ['a token that is not a JWT', async () => 'not-a-jwt'],
    ['an expired token', async () => stack.token('ws-alice', 'payouts:write', -60)],
  ])('%s: UNAUTHENTICATED and no event', async (_name, tokenOf) => {
    const id = await payVia(stack.url, alice, `sse-auth-${_name}`);
    const s = sse(stack.url, SUB, { id }, await tokenOf());
    expect(await s.done).toBe('complete');
    expect(s.payloads[0]?.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(noData(s)).toBe(true);
  });

  it('an SSE stream ends when its token expires, like a WebSocket', async () => {
    const id = await payVia(stack.url, alice, 'sse-expiry');
    const short = await stack.token('ws-alice', 'payouts:write', 2);
    const s = sse(stack.url, SUB, { id }, short);
    await waitFor(() => s.payloads.length > 0, 5_000, 'SSE snapshot');
    const ended = await Promise.race([s.done, new Promise<'still open'>((r) => setTimeout(() => r('still open'), 4_000))]);
    s.close();
    expect(ended).not.toBe('still open');
  });

  it('introspection over SSE is rejected like over HTTP', async () => {
    const res = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
    });
    const text = await res.text();
    expect(text).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(text).not.toMatch(/"types"\s*:/);
  });
});
