import { describe, expect, it } from 'vitest';
import { authenticate, canonicalBody } from '../../sandbox/auth.js';
import { createNonceStore } from '../../sandbox/nonce-store.js';
import { stringToSign } from '../../src/zopay/sign.js';
import { at, call, sandboxFor } from './helpers.js';

/** zopay-api.md §2.5: computed for this project, cross-checked in Node and Python. */
const SECRET = 'test_secret_key';
const TS = '1705564800';
const VECTORS = [
  {
    name: 'POST execute',
    method: 'POST',
    path: '/api/v1/disbursements/execute',
    query: {},
    body: '{"quote_id":"quote-uuid","idempotency_key":"unique-payout-123","recipient":{"msisdn":"+237612345678"}}',
    nonce: '550e8400-e29b-41d4-a716-446655440000',
    origin: 'https://yourdomain.com',
    signature: '64dc0b4fe947f568c4d996daff7efad6159f08d5d452da91bebdf1601b53fd91',
  },
  {
    name: 'GET list with a query',
    method: 'GET',
    path: '/api/v1/disbursements',
    query: { status: 'SUCCESS', limit: '20', offset: '0' },
    body: '',
    nonce: '6f1c2a7e-0000-4000-8000-000000000001',
    origin: 'https://yourdomain.com',
    signature: 'a7eb54a2b869e15a422aeefcc25cb40cccdc41c15db662b8f252384a2763f33c',
  },
  {
    name: "the internal guide's string",
    method: 'POST',
    path: '/api/v1/wallets/quote',
    query: {},
    body: '{"gateway":"MTN_MOMO","amount":"150.00","currency":"EUR"}',
    nonce: '550e8400-e29b-41d4-a716-446655440000',
    origin: 'http://localhost:3000',
    signature: '4260543509e97a4397f83c7c25c77cbb684be013ea2364f449d592d73fe338d4',
  },
] as const;

const headersOf = (v: (typeof VECTORS)[number]) => ({
  'x-zo-key': 'k',
  'x-zo-timestamp': TS,
  'x-zo-nonce': v.nonce,
  'x-zo-origin': v.origin,
  'x-zo-signature': v.signature,
  'x-zo-version': '1.0',
});

describe('signature vectors of zopay-api.md §2.5', () => {
  it.each(VECTORS)('the sandbox verifier accepts the published signature for $name', (v) => {
    const result = authenticate(
      { method: v.method, path: v.path, query: { ...v.query }, rawBody: v.body, headers: headersOf(v) },
      { apiKey: 'k', apiSecret: SECRET, allowedOrigins: new Set([v.origin]), nonces: createNonceStore(), now: Number(TS) * 1000 },
    );
    expect(result).toEqual({ ok: true, apiKey: 'k' });
  });

  it('rebuilds the documented string-to-sign for the guide example', () => {
    const v = VECTORS[2];
    expect(stringToSign({ method: 'POST', path: v.path, body: canonicalBody('POST', v.body), timestamp: TS, nonce: v.nonce, origin: v.origin })).toBe(
      'POST/api/v1/wallets/quote{"gateway":"MTN_MOMO","amount":"150.00","currency":"EUR"}1705564800550e8400-e29b-41d4-a716-446655440000http://localhost:3000',
    );
  });

  it.each(VECTORS)('rejects the $name vector when one character of the signature changes', (v) => {
    const flipped = (v.signature[0] === 'a' ? 'b' : 'a') + v.signature.slice(1);
    const result = authenticate(
      { method: v.method, path: v.path, query: { ...v.query }, rawBody: v.body, headers: { ...headersOf(v), 'x-zo-signature': flipped } },
      { apiKey: 'k', apiSecret: SECRET, allowedOrigins: new Set([v.origin]), nonces: createNonceStore(), now: Number(TS) * 1000 },
    );
    expect(result.ok).toBe(false);
  });

  it('accepts the published execute and list signatures over real HTTP', async () => {
    const sb = await sandboxFor({
      apiKey: 'k',
      apiSecret: SECRET,
      allowedOrigins: ['https://yourdomain.com'],
      now: () => Number(TS) * 1000,
    });
    const [exec, list] = [VECTORS[0], VECTORS[1]];
    const e = await call(sb, {
      method: 'POST',
      path: exec.path,
      rawBody: exec.body,
      key: 'k',
      timestampSec: Number(TS),
      nonce: exec.nonce,
      origin: exec.origin,
      signature: exec.signature,
    });
    // Authentication passed: the business layer answers (the vector's quote does not exist).
    expect(e.status).toBe(400);
    expect(at(e.json, 'code')).toBe('QUOTE_NOT_FOUND');

    const l = await call(sb, {
      path: list.path,
      query: { ...list.query },
      key: 'k',
      timestampSec: Number(TS),
      nonce: list.nonce,
      origin: list.origin,
      signature: list.signature,
    });
    expect(l.status).toBe(200);
    expect(l.json).toMatchObject({ payouts: [], total: 0, limit: 20, offset: 0, hasMore: false });
  });
});
