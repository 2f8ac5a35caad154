/**
 * Browser-facing HTTP policy in production: CSRF prevention, CORS from an allow-list only, introspection
 * and GraphiQL off unless explicitly enabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUOTE, quoteInput } from '../helpers/gateway.js';
import { MSISDN_OK, gql, healthy, rawRequest, startSecureStack, type SecureStack } from './support.js';

const APP = 'https://app.merchant.example';
const EVIL = 'https://evil.example';

let prod: SecureStack;
let withCors: SecureStack;
let enabled: SecureStack;
let token: string;

beforeAll(async () => {
  [prod, withCors, enabled] = await Promise.all([
    startSecureStack(),
    startSecureStack({ env: { CORS_ORIGINS: `${APP}, https://admin.merchant.example` } }),
    startSecureStack({ env: { INTROSPECTION_ENABLED: 'true', GRAPHIQL_ENABLED: 'true' } }),
  ]);
  token = await prod.token('policy-app');
});
afterAll(async () => {
  await Promise.all([prod.close(), withCors.close(), enabled.close()]);
});

const CSRF_REFUSED = { errors: [{ message: 'Required CSRF header(s) not present' }] };

describe('CSRF: requests a browser could send cross-site without a preflight are refused', () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const mutation = `mutation { createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "${MSISDN_OK}" } }) { __typename } }`;
  const boundary = '----csrf';
  const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: mutation })}\r\n--${boundary}--\r\n`;
  const attacks: [string, Parameters<typeof rawRequest>[1]][] = [
    ['a text/plain POST carrying a JSON mutation', { headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: mutation }) }],
    ['a text/plain;charset POST in upper case', { headers: { 'content-type': 'TEXT/PLAIN; charset=utf-8' }, body: JSON.stringify({ query: mutation }) }],
    ['a multipart/form-data POST', { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipart }],
    ['an urlencoded form POST', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ query: mutation }) }],
    ['a POST without any content type', { headers: {}, body: JSON.stringify({ query: mutation }) }],
    ['a GET query without the CSRF header', { method: 'GET', path: `/graphql?${form({ query: '{ __typename }' })}` }],
    ['a GET mutation without the CSRF header', { method: 'GET', path: `/graphql?${form({ query: mutation })}` }],
  ];

  it.each(attacks)('%s: 403 "Required CSRF header(s) not present", nothing executed', async (_name, opts) => {
    const before = prod.sandbox.requests.length;
    const res = await rawRequest(prod.url, { ...opts, headers: { ...opts.headers, origin: EVIL, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject(CSRF_REFUSED);
    expect(prod.sandbox.requests.length).toBe(before);
    expect(await healthy(prod.url)).toBe(true);
  });

  it('a JSON POST is served whatever the case of its media type (types are case-insensitive)', async () => {
    for (const type of ['APPLICATION/JSON', 'Application/Json; charset=UTF-8', 'application/json ;charset=utf-8']) {
      const res = await rawRequest(prod.url, { headers: { 'content-type': type }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect([type, res.status, JSON.parse(res.body)]).toEqual([type, 200, { data: { __typename: 'Query' } }]);
    }
  });

  it.each(['application/xml', 'application/graphql-response+json', 'application/octet-stream'])(
    'a POST of %s gets a 415 saying what to send, in GraphQL shape, and nothing runs',
    async (type) => {
      const before = prod.sandbox.requests.length;
      const res = await rawRequest(prod.url, { headers: { 'content-type': type, authorization: `Bearer ${token}` }, body: JSON.stringify({ query: mutation }) });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body)).toEqual({ errors: [{ message: 'Unsupported content type: send the request as "content-type: application/json".', extensions: { code: 'BAD_REQUEST' } }] });
      expect(prod.sandbox.requests.length).toBe(before);
    },
  );

  it('a GET query with the CSRF header is served; a GET mutation is still refused', async () => {
    const query = await rawRequest(prod.url, { method: 'GET', path: `/graphql?${form({ query: '{ __typename }' })}`, headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(query.status).toBe(200);
    expect(JSON.parse(query.body)).toEqual({ data: { __typename: 'Query' } });
    const before = prod.sandbox.requests.length;
    const mut = await rawRequest(prod.url, { method: 'GET', path: `/graphql?${form({ query: mutation })}`, headers: { 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${token}` } });
    expect(mut.status).toBe(405);
    expect(prod.sandbox.requests.length).toBe(before);
  });

  it('a method GraphQL does not serve is a 405 naming GET and POST, whatever its headers (no CSRF 403 first)', async () => {
    const before = prod.sandbox.requests.length;
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      for (const headers of [{}, { 'content-type': 'application/json' }, { 'content-type': 'text/plain' }] as Record<string, string>[]) {
        const res = await rawRequest(prod.url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, body: JSON.stringify({ query: mutation }) });
        expect([method, headers, res.status, res.headers['allow']]).toEqual([method, headers, 405, 'GET, POST']);
        expect(JSON.parse(res.body)).toEqual({ errors: [{ message: 'GraphQL only supports GET and POST requests.', extensions: { code: 'BAD_REQUEST' } }] });
      }
    }
    const head = await rawRequest(prod.url, { method: 'HEAD', headers: {} });
    expect([head.status, head.headers['allow']]).toEqual([405, 'GET, POST']);
    expect(prod.sandbox.requests.length).toBe(before);
  });

  it('a JSON POST from an allowed origin succeeds', async () => {
    const res = await gql<{ createQuote: { __typename: string } }>(withCors.url, QUOTE, quoteInput(), await withCors.token('policy-app'), { origin: APP });
    expect(res.status).toBe(200);
    expect(res.data?.createQuote.__typename).toBe('Quote');
  });
});

describe('CORS: only allow-listed origins may read responses', () => {
  const preflight = (url: string, origin: string) =>
    rawRequest(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });

  it('a preflight from an allowed origin is granted for that origin only', async () => {
    const res = await preflight(withCors.url, APP);
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('a preflight or a request from another origin (or the opaque "null" origin) is granted to no one but the allow-list', async () => {
    for (const origin of [EVIL, 'null', `${APP}.evil.example`]) {
      for (const res of [
        await preflight(withCors.url, origin),
        await rawRequest(withCors.url, { headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) }),
      ]) {
        // "null" would grant a sandboxed iframe (Origin: null) read access.
        expect([undefined, APP, 'https://admin.merchant.example'], `Access-Control-Allow-Origin for Origin: ${origin}`).toContain(res.headers['access-control-allow-origin']);
        expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      }
    }
  });

  it('every response carries its request id, the one the client sent if valid, and an allowed origin may read it', async () => {
    const mine = await rawRequest(withCors.url, { headers: { origin: APP, 'content-type': 'application/json', 'x-request-id': 'order-1001.try-2' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(mine.headers['x-request-id']).toBe('order-1001.try-2');
    // Digits alone are not a phone number: a long order number is kept.
    const digits = await rawRequest(prod.url, { headers: { 'content-type': 'application/json', 'x-request-id': '2026112800012345' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(digits.headers['x-request-id']).toBe('2026112800012345');
    expect(String(mine.headers['access-control-expose-headers'])).toMatch(/x-request-id/i);
    // Not an id the logs could carry as sent (too long, odd characters, a phone number the logs would
    // mask, in any of its forms): the gateway makes its own.
    for (const sent of ['x'.repeat(65), 'a b', undefined, '237670000001', 'order-00237670000001', 'order.670000001']) {
      const res = await rawRequest(prod.url, { headers: { 'content-type': 'application/json', ...(sent === undefined ? {} : { 'x-request-id': sent }) }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(res.headers['x-request-id'], String(sent)).toMatch(/^[0-9a-f-]{36}$/);
    }
    const notFound = await rawRequest(prod.url, { method: 'GET', path: '/nowhere', headers: { 'x-request-id': 'lost-1' } });
    expect(notFound.headers['x-request-id']).toBe('lost-1');
  });

  it('without CORS_ORIGINS no cross-origin access is granted at all', async () => {
    for (const res of [
      await preflight(prod.url, APP),
      await rawRequest(prod.url, { headers: { origin: APP, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) }),
    ]) {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('introspection and GraphiQL are off in production unless enabled', () => {
  const introspections: [string, string][] = [
    ['__schema', '{ __schema { types { name } } }'],
    ['__type', '{ __type(name: "Payout") { name fields { name } } }'],
    ['__schema behind an alias', '{ s: __schema { queryType { name } } }'],
    ['__schema inside a fragment', 'query { ...F } fragment F on Query { __schema { queryType { name } } }'],
    ['the GraphiQL introspection query', 'query IntrospectionQuery { __schema { queryType { name } mutationType { name } directives { name } } }'],
  ];

  it.each(introspections)('%s over HTTP POST is a validation error, with no schema data', async (_name, query) => {
    const res = await gql(prod.url, query, {}, token);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/introspection/i);
    expect(JSON.stringify(res)).not.toMatch(/"(Payout|PayoutStatus|Quote)"/);
  });

  it('introspection over GET (with the CSRF header) and without a token is refused too', async () => {
    const res = await rawRequest(prod.url, { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ __schema { queryType { name } } }')}`, headers: { 'x-graphql-yoga-csrf': '1' } });
    const body = JSON.parse(res.body) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('__typename still works (it is not introspection of the schema)', async () => {
    expect((await gql(prod.url, '{ __typename }', {}, token)).data).toEqual({ __typename: 'Query' });
  });

  it('a browser asking for /graphql gets no GraphiQL page', async () => {
    const res = await rawRequest(prod.url, { method: 'GET', path: '/graphql', headers: { accept: 'text/html' } });
    expect(res.status).not.toBe(200);
    expect(res.body).not.toMatch(/graphiql|<html/i);
  });

  it('with INTROSPECTION_ENABLED and GRAPHIQL_ENABLED both work, and GraphiQL carries no token in production', async () => {
    const res = await gql<{ __schema: { queryType: { name: string } } }>(enabled.url, '{ __schema { queryType { name } } }', {}, await enabled.token('dev'));
    expect(res.data?.__schema.queryType.name).toBe('Query');
    const page = await rawRequest(enabled.url, { method: 'GET', path: '/graphql', headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/graphiql/i);
    expect(page.body).not.toMatch(/Bearer\s+ey/);
  });
});

describe('a body that is not valid JSON', () => {
  it.each([
    ['a truncated document with a phone number', '{"query": "{ payouts(first:1){totalCount} +237670000001'],
    ['a trailing comma', '{"query": "{ __typename }",}'],
    ['not JSON at all', 'query { __typename }'],
  ])('%s: 400 BAD_REQUEST, no original error, no echo of the body, nothing sent upstream', async (_name, body) => {
    const before = prod.sandbox.requests.length;
    for (const accept of [undefined, 'application/json', 'application/graphql-response+json', 'text/event-stream']) {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) };
      const res = await rawRequest(prod.url, { headers, body });
      expect(res.status, `${accept}: ${res.body}`).toBe(400);
      // An event-stream client gets the same error as its one `next` event.
      const json = accept === 'text/event-stream' ? (/^data: (.*)$/m.exec(res.body)?.[1] ?? '') : res.body;
      const parsed = JSON.parse(json) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(parsed.errors).toHaveLength(1);
      expect(parsed.errors[0]?.extensions['code']).toBe('BAD_REQUEST');
      expect(parsed.errors[0]?.extensions).not.toHaveProperty('originalError');
      expect(res.body).not.toMatch(/originalError|SyntaxError|position|670000001|__typename|payouts/);
    }
    expect(prod.sandbox.requests.length).toBe(before);
  });
});

describe('a GET whose variables or extensions are not valid JSON', () => {
  it.each([
    ['variables', 'variables', '{bad'],
    ['variables with a phone number', 'variables', '{"msisdn": "+237670000001"'],
    ['extensions', 'extensions', '{"persistedQuery":'],
  ])('%s: 400 BAD_REQUEST naming the parameter, logged below error level, nothing sent upstream', async (_name, param, value) => {
    const before = prod.sandbox.requests.length;
    const logsBefore = prod.logs.lines.length;
    const query = new URLSearchParams({ query: 'query Q { __typename }', [param]: value }).toString();
    for (const accept of [undefined, 'application/json', 'application/graphql-response+json']) {
      const headers = { 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) };
      const res = await rawRequest(prod.url, { method: 'GET', path: `/graphql?${query}`, headers });
      expect(res.status, `${accept}: ${res.body}`).toBe(400);
      const parsed = JSON.parse(res.body) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(parsed.errors).toEqual([{ message: `The "${param}" parameter is not valid JSON.`, extensions: { code: 'BAD_REQUEST' } }]);
      expect(res.body).not.toMatch(/SyntaxError|position|670000001/);
    }
    // Logged at debug level, as every client mistake Yoga reports, never as an unexpected error.
    const lines = prod.logs.lines.slice(logsBefore).join('');
    expect(lines).toMatch(/"level":20,[^\n]*"yoga":"GraphQLError"/);
    expect(lines).not.toMatch(/SyntaxError/);
    expect(lines.split('\n').filter((l) => l.includes('"level":50'))).toEqual([]);
    expect(prod.sandbox.requests.length).toBe(before);
    expect(await healthy(prod.url)).toBe(true);
  });
});
