/**
 * GraphQL request limits in production over HTTP: depth, aliases, cost, tokens, directives (each at its
 * boundary), no field suggestions, limits never named in messages, the body cap before Yoga reads the body
 * (declared and chunked), batching off, one money-moving mutation per operation, and the per-caller
 * mutation rate limit. Every rejection must leave ZoPay untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTE, PAYOUT, QUOTE, quoteInput } from '../helpers/gateway.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import {
  MSISDN_OK,
  firstCode,
  gql,
  healthy,
  jsonChunks,
  quoteVia,
  rawRequest,
  rawSocketRequest,
  startSecureStack,
  type SecureStack,
} from './support.js';

const LIMITS = { depth: 7, aliases: 13, cost: 4321, tokens: 677, directives: 11, body: 20_000 };

let stack: SecureStack;
let token: string;

beforeAll(async () => {
  stack = await startSecureStack({
    env: {
      GRAPHQL_MAX_DEPTH: String(LIMITS.depth),
      GRAPHQL_MAX_ALIASES: String(LIMITS.aliases),
      GRAPHQL_MAX_COST: String(LIMITS.cost),
      GRAPHQL_MAX_TOKENS: String(LIMITS.tokens),
      GRAPHQL_MAX_DIRECTIVES: String(LIMITS.directives),
      MAX_BODY_BYTES: String(LIMITS.body),
    },
  });
  token = await stack.token('limits-app');
});
afterAll(() => stack.close());

const nested = (depth: number) => `query Deep { ${'a { '.repeat(depth - 1)}b${' }'.repeat(depth - 1)} }`;
/** `__typename` is on armor's alias allow-list; payout(id:) of an unknown id costs no upstream call for this caller. */
const aliases = (n: number) => `query Aliased { ${Array.from({ length: n }, (_, i) => `a${i}: payout(id: "p${i}") { id }`).join(' ')} }`;
const directives = (n: number) => `query Directed { ${'... @include(if: true) { __typename } '.repeat(n)}}`;
/** n tokens: `query`, `{`, n − 3 names, `}` (graphql-js itself aborts validation beyond ~700 repeated fields). */
const tokens = (n: number) => `query { ${'__typename '.repeat(n - 3)}}`;
const PAYOUT_FIELDS = 'id status isFinal amount currency totalAmount gatewayFee platformFee createdAt completedAt recipient { msisdn } failure { code message }';
/** The README's list query with every field: the most expensive thing a normal client sends. */
const FULL_LIST = `query List { payouts(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${PAYOUT_FIELDS} } } } }`;
/** Twelve full lists in one operation: within the alias and token limits, far over the cost limit. */
const WIDE = `query Wide { ${Array.from({ length: 12 }, (_, i) => `p${i}: payouts(first: 100) { edges { node { ...F } } }`).join(' ')} } fragment F on Payout { ${PAYOUT_FIELDS} gateway gatewayReference correlationId }`;

/** What a production client must never learn from a limit error: the limit, the measured size, a suggestion. */
function expectOpaqueRejection(res: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }, limit: number): void {
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  const err = res.errors?.[0];
  expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']).toContain(err?.extensions?.['code']);
  expect(err?.message).not.toMatch(/\d/); // neither the limit nor what was found
  expect(JSON.stringify(res)).not.toContain(String(limit));
  expect(err?.message).not.toMatch(/did you mean|cannot query field/i);
}

describe('request limits reject oversized operations before any resolver runs (production)', () => {
  const cases = [
    { limit: 'depth', within: nested(LIMITS.depth), over: nested(LIMITS.depth + 1), n: LIMITS.depth },
    { limit: 'aliases', within: aliases(LIMITS.aliases), over: aliases(LIMITS.aliases + 1), n: LIMITS.aliases },
    { limit: 'directives', within: directives(LIMITS.directives), over: directives(LIMITS.directives + 1), n: LIMITS.directives },
    { limit: 'tokens', within: tokens(LIMITS.tokens - 10), over: tokens(LIMITS.tokens + 10), n: LIMITS.tokens },
    { limit: 'cost', within: FULL_LIST, over: WIDE, n: LIMITS.cost },
  ];

  it.each(cases)('over the $limit limit: one opaque validation error that names no number, and nothing sent to ZoPay', async ({ over, n }) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.url, over, {}, token);
    expectOpaqueRejection(res, n);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it.each(cases.filter((c) => c.limit !== 'depth'))('at the $limit limit: the operation is served', async ({ within }) => {
    const res = await gql(stack.url, within, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data).toBeTruthy();
  });

  it('at the depth limit: only ordinary field errors, not the limit (the schema itself is shallower)', async () => {
    const res = await gql(stack.url, nested(LIMITS.depth), {}, token);
    expect(res.errors?.every((e) => /Cannot query field/.test(e.message))).toBe(true);
  });

  it('a deep query hidden in a fragment named __schema is still measured and rejected', async () => {
    const q = `query { ...__schema } fragment __schema on Query { ${'a { '.repeat(LIMITS.depth + 2)}b${' }'.repeat(LIMITS.depth + 2)} }`;
    expectOpaqueRejection(await gql(stack.url, q, {}, token), LIMITS.depth);
  });
});

describe('no "did you mean" suggestions in production', () => {
  const typos: [string, string, Record<string, unknown>][] = [
    ['a misspelled root field', 'query { payot(id: "x") { id } }', {}],
    ['a misspelled nested field', 'query { payout(id: "x") { idd statuss } }', {}],
    ['a misspelled argument', 'query { payout(idd: "x") { id } }', {}],
    ['a misspelled type', 'query Q($id: IDD!) { payout(id: $id) { id } }', { id: 'x' }],
    ['a misspelled input field', `mutation { createQuote(input: { gateway: MTN_MOMO, amount: "1", currency: "XAF", recipent: { msisdn: "${MSISDN_OK}" } }) { __typename } }`, {}],
    ['a misspelled enum value inline', `mutation { createQuote(input: { gateway: MTN_MOM, amount: "1", currency: "XAF", recipient: { msisdn: "${MSISDN_OK}" } }) { __typename } }`, {}],
    ['a misspelled enum value in variables', QUOTE, { input: { gateway: 'MTN_MOM', amount: '5000', currency: 'XAF', recipient: { msisdn: MSISDN_OK } } }],
    ['a misspelled input field in variables', QUOTE, { input: { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipent: { msisdn: MSISDN_OK } } }],
  ];
  it.each(typos)('%s: an error without any suggestion of the real name', async (_name, query, variables) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.url, query, variables, token);
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors ?? []) expect(e.message).not.toMatch(/did you mean/i);
    expect(JSON.stringify(res.errors)).not.toMatch(/"(payout|id|status|ID|recipient|MTN_MOMO)"\?/);
    expect(stack.sandbox.requests.length).toBe(before);
  });
});

describe('the request body cap answers 413 before Yoga reads the body', () => {
  const TOO_LARGE = { errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] };

  it('a declared Content-Length over the cap gets 413 at once, without sending a byte of the body', async () => {
    const url = new URL(stack.url);
    const started = Date.now();
    const raw = await rawSocketRequest(
      stack.url,
      [`POST /graphql HTTP/1.1`, `Host: ${url.host}`, 'Content-Type: application/json', `Content-Length: ${5 * 1024 * 1024}`].join('\r\n'),
    );
    expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual(TOO_LARGE);
  });

  it('a chunked body (no Content-Length) over the cap gets 413 while it is still uploading', async () => {
    const before = stack.sandbox.requests.length;
    const res = await rawRequest(stack.url, { headers: { 'content-type': 'application/json' }, chunks: jsonChunks(100 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(TOO_LARGE);
    expect(stack.sandbox.requests.length).toBe(before);
    expect(await healthy(stack.url)).toBe(true);
  });

  it('a body just under the cap is served, declared or chunked', async () => {
    // Padding in a comment: bytes, not tokens.
    const body = JSON.stringify({ query: `# ${'p'.repeat(LIMITS.body - 200)}\n{ __typename }` });
    const declared = await rawRequest(stack.url, { headers: { 'content-type': 'application/json' }, body });
    expect(declared.status).toBe(200);
    expect(JSON.parse(declared.body)).toEqual({ data: { __typename: 'Query' } });
    const chunked = await rawRequest(stack.url, { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(body.slice(0, 5_000)), Buffer.from(body.slice(5_000))] });
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body)).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('batching is off', () => {
  it('a JSON array of operations gets 400 and none of them runs', async () => {
    const quoteId = await quoteVia(stack.url, token);
    const before = stack.sandbox.requests.length;
    const op = (key: string) => ({ query: EXECUTE, variables: { input: { quoteId, idempotencyKey: key, recipient: { msisdn: MSISDN_OK } } } });
    const res = await rawRequest(stack.url, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify([op('batch-1'), op('batch-2')]),
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/batching is not supported/i);
    expect(stack.sandbox.requests.length).toBe(before);
  });
});

describe('at most one money-moving mutation per operation', () => {
  const input = (key: string) => `input: { quoteId: $q, idempotencyKey: "${key}", recipient: { msisdn: "${MSISDN_OK}" } }`;
  const shapes: [string, string][] = [
    ['two aliases with the same key', `mutation Twice($q: ID!) { a: executeDisbursement(${input('same')}) { __typename } b: executeDisbursement(${input('same')}) { __typename } }`],
    ['two aliases with different keys', `mutation Twice($q: ID!) { a: executeDisbursement(${input('k-a')}) { __typename } b: executeDisbursement(${input('k-b')}) { __typename } }`],
    ['one direct and one in a named fragment', `mutation Twice($q: ID!) { executeDisbursement(${input('f-1')}) { __typename } ...Again } fragment Again on Mutation { again: executeDisbursement(${input('f-2')}) { __typename } }`],
    ['two in inline fragments', `mutation Twice($q: ID!) { ... on Mutation { a: executeDisbursement(${input('i-1')}) { __typename } } ... on Mutation { b: executeDisbursement(${input('i-2')}) { __typename } } }`],
  ];

  it.each(shapes)('%s: rejected at validation, no upstream call, and the quote stays unused', async (_name, doc) => {
    const quoteId = await quoteVia(stack.url, token);
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.url, doc, { q: quoteId }, token);
    expect(res.data ?? null).toBeNull();
    expect(firstCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(stack.sandbox.requests.length).toBe(before);
    const used = await gql<{ executeDisbursement: { __typename: string } }>(stack.url, EXECUTE, { input: { quoteId, idempotencyKey: `after-${_name}`, recipient: { msisdn: MSISDN_OK } } }, token);
    expect(used.data?.executeDisbursement.__typename).toBe('Payout');
  });

  it('a quote and one execute in the same document are allowed (only one moves money)', async () => {
    const res = await gql(stack.url, `mutation Both { createQuote(input: { gateway: MTN_MOMO, amount: "100", currency: "XAF", recipient: { msisdn: "${MSISDN_OK}" } }) { __typename } executeDisbursement(input: { quoteId: "nope", idempotencyKey: "both-1", recipient: { msisdn: "${MSISDN_OK}" } }) { __typename } }`, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ createQuote: { __typename: 'Quote' }, executeDisbursement: { __typename: 'QuoteNotFoundError' } });
  });
});

describe('per-caller mutation rate limit (shared by every instance through Redis)', () => {
  let redis: RedisServerHandle;
  let limited: SecureStack;

  beforeAll(async () => {
    redis = await startRedis();
    limited = await startSecureStack({ instances: 2, env: { REDIS_URL: redis.url, MUTATION_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => {
    await limited.close();
    await redis.stop();
  });

  it('the 4th mutation in a minute, on any instance, is RATE_LIMITED with retryAfter and sends nothing; other callers and reads are unaffected', async () => {
    const alice = await limited.token('rl-alice', 'payouts:write payouts:read');
    const [a, b] = limited.gateways.map((g) => g.url) as [string, string];
    for (const url of [a, b, a]) {
      const ok = await gql<{ createQuote: { __typename: string } }>(url, QUOTE, quoteInput(), alice);
      expect(ok.data?.createQuote.__typename).toBe('Quote');
    }
    const before = limited.sandbox.requests.length;
    for (const url of [b, a]) {
      const res = await gql(url, EXECUTE, { input: { quoteId: 'any', idempotencyKey: 'rl-1', recipient: { msisdn: MSISDN_OK } } }, alice);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      const retryAfter = res.errors?.[0]?.extensions?.['retryAfter'];
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter as number).toBeGreaterThanOrEqual(1);
      expect(retryAfter as number).toBeLessThanOrEqual(60);
    }
    expect(limited.sandbox.requests.length).toBe(before);

    const bob = await limited.token('rl-bob');
    expect((await gql<{ createQuote: { __typename: string } }>(b, QUOTE, quoteInput(), bob)).data?.createQuote.__typename).toBe('Quote');
    const read = await gql(a, PAYOUT, { id: 'whatever' }, alice);
    expect(read.errors).toBeUndefined();
  });
});
