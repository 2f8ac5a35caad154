import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUTH_HEADERS } from '../../sandbox/auth.js';
import { createNonceStore } from '../../sandbox/nonce-store.js';
import { at, call, manualClock, quoteBody, sandboxFor } from './helpers.js';

const LIST = { path: '/api/v1/disbursements' } as const;

async function clockedSandbox() {
  const clock = manualClock();
  const sb = await sandboxFor({ now: clock.now });
  return { clock, sb, nowSec: clock.t / 1000 };
}

describe('sandbox request authentication', () => {
  it('accepts a correctly signed request', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, LIST);
    expect(r.status).toBe(200);
  });

  it.each(AUTH_HEADERS)('answers 401 AUTH_ERROR when %s is missing', async (header) => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, omit: [header] });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'Unauthorized', message: `Missing required header ${header}`, code: 'AUTH_ERROR' });
  });

  it('answers 400 UNSUPPORTED_VERSION for an x-zo-version other than 1.0', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, version: '2.0' });
    expect(r.status).toBe(400);
    expect(at(r.json, 'code')).toBe('UNSUPPORTED_VERSION');
  });

  it('answers 401 "Merchant not found" for an unknown API key', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, key: 'zo_someone_else' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'Unauthorized', message: 'Merchant not found', code: 'AUTH_ERROR' });
  });

  it.each([-301, 301])('rejects a timestamp %i s away from the server clock as "Request too old"', async (offset) => {
    const { sb, nowSec } = await clockedSandbox();
    const r = await call(sb, { ...LIST, timestampSec: nowSec + offset });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'Unauthorized', message: 'Request too old', code: 'AUTH_ERROR' });
  });

  it.each([-299, 299, -300, 300])('accepts a timestamp %i s away from the server clock', async (offset) => {
    const { sb, nowSec } = await clockedSandbox();
    const r = await call(sb, { ...LIST, timestampSec: nowSec + offset });
    expect(r.status).toBe(200);
  });

  it('rejects a timestamp in milliseconds (the unit is seconds)', async () => {
    const { sb, clock } = await clockedSandbox();
    const r = await call(sb, { ...LIST, timestampSec: clock.t });
    expect(r.status).toBe(401);
    expect(at(r.json, 'message')).toBe('Request too old');
  });

  it('rejects a nonce reused within 10 minutes, even with a fresh timestamp and signature', async () => {
    const { sb, clock } = await clockedSandbox();
    const nonce = randomUUID();
    expect((await call(sb, { ...LIST, nonce, timestampSec: clock.t / 1000 })).status).toBe(200);
    clock.advance(9 * 60_000);
    const again = await call(sb, { ...LIST, nonce, timestampSec: clock.t / 1000 });
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ error: 'Unauthorized', message: 'Nonce already used', code: 'AUTH_ERROR' });
  });

  it('accepts a nonce again once its 10-minute window has passed', async () => {
    const { sb, clock } = await clockedSandbox();
    const nonce = randomUUID();
    expect((await call(sb, { ...LIST, nonce, timestampSec: clock.t / 1000 })).status).toBe(200);
    clock.advance(10 * 60_000 + 1_000);
    expect((await call(sb, { ...LIST, nonce, timestampSec: clock.t / 1000 })).status).toBe(200);
  });

  it('does not burn a nonce on a request with an invalid signature', async () => {
    const sb = await sandboxFor();
    const nonce = randomUUID();
    const forged = await call(sb, { ...LIST, nonce, secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(at(forged.json, 'message')).toBe('Invalid signature');
    expect((await call(sb, { ...LIST, nonce })).status).toBe(200);
  });

  it('answers 403 ORIGIN_NOT_ALLOWED for a correctly signed request from another origin', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: 'Forbidden', message: 'Origin not allowed', code: 'ORIGIN_NOT_ALLOWED' });
  });

  it('compares origins case-insensitively and without a trailing slash', async () => {
    const sb = await sandboxFor({ allowedOrigins: ['https://Shop.Example.com/'] });
    expect((await call(sb, { ...LIST, origin: 'https://shop.example.com' })).status).toBe(200);
    expect((await call(sb, { ...LIST, origin: 'HTTPS://SHOP.EXAMPLE.COM/' })).status).toBe(200);
  });

  it('rejects a signature made with another secret', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, secret: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'Unauthorized', message: 'Invalid signature', code: 'AUTH_ERROR' });
  });

  it('rejects a signature that is not 64 hex characters without throwing', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { ...LIST, signature: 'sha256=abc' });
    expect(r.status).toBe(401);
    expect(at(r.json, 'message')).toBe('Invalid signature');
  });

  it('rejects a tampered body sent with the signature of the original body', async () => {
    const sb = await sandboxFor();
    const original = JSON.stringify(quoteBody({ amount: '5000' }));
    const tampered = JSON.stringify(quoteBody({ amount: '9000' }));
    const r = await call(sb, { method: 'POST', path: '/api/v1/disbursements/quote', rawBody: tampered, signedBody: original });
    expect(r.status).toBe(401);
    expect(at(r.json, 'message')).toBe('Invalid signature');
  });

  it('verifies the re-serialised body (§9 #5): spaced JSON signed in its compact form is accepted', async () => {
    const sb = await sandboxFor();
    const body = quoteBody();
    const spaced = JSON.stringify(body, null, 2);
    const ok = await call(sb, { method: 'POST', path: '/api/v1/disbursements/quote', rawBody: spaced, signedBody: JSON.stringify(body) });
    expect(ok.status).toBe(200);
    const signedSpaced = await call(sb, { method: 'POST', path: '/api/v1/disbursements/quote', rawBody: spaced });
    expect(signedSpaced.status).toBe(401);
  });

  it('signs non-ASCII body text as the UTF-8 string that was sent', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: '/api/v1/disbursements/quote', body: { ...quoteBody(), note: 'Zoé Ngô — café' } });
    expect(r.status).toBe(200);
  });

  it('signs query values raw and decoded (§9 #4), not percent-encoded', async () => {
    const sb = await sandboxFor();
    const query = { startDate: '2024-01-01T00:00:00Z', limit: '5' };
    expect((await call(sb, { ...LIST, query })).status).toBe(200);
    const encoded = { startDate: encodeURIComponent(query.startDate), limit: '5' };
    expect((await call(sb, { ...LIST, query, signedQuery: encoded })).status).toBe(401);
  });

  it('authenticates unknown /api/v1 routes first, then answers 404', async () => {
    const sb = await sandboxFor();
    expect((await call(sb, { path: '/api/v1/refunds', omit: ['x-zo-signature'] })).status).toBe(401);
    const r = await call(sb, { path: '/api/v1/refunds' });
    expect(r.status).toBe(404);
    expect(at(r.json, 'code')).toBe('NOT_FOUND');
  });

  it('records every /api/v1 request in arrival order, failures included', async () => {
    const sb = await sandboxFor();
    await call(sb, { ...LIST, secret: 'wrong' });
    await call(sb, LIST);
    expect(sb.requests.map((r) => [r.route, r.status])).toEqual([
      ['list', 401],
      ['list', 200],
    ]);
    expect(sb.requests[1]?.headers['x-zo-version']).toBe('1.0');
  });
});

describe('nonce store', () => {
  it('forgets nonces after the window so memory stays bounded', () => {
    const store = createNonceStore(1_000);
    for (let i = 0; i < 100; i++) store.record('k', `n${i}`, 0);
    expect(store.size()).toBe(100);
    expect(store.seen('k', 'n1', 999)).toBe(true);
    expect(store.seen('k', 'n1', 1_000)).toBe(false);
    expect(store.size()).toBe(0);
  });

  it('scopes nonces per API key', () => {
    const store = createNonceStore();
    store.record('a', 'n', 0);
    expect(store.seen('b', 'n', 1)).toBe(false);
    expect(store.seen('a', 'n', 1)).toBe(true);
  });
});
