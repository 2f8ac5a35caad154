import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signRequest, sortedQueryString, stringToSign, type SignableRequest } from '../../src/zopay/sign.js';

const SECRET = 'test_secret_key';

describe('signRequest: zopay-api.md §2.5 vectors', () => {
  it('signs the POST execute example', () => {
    const req: SignableRequest = {
      method: 'POST',
      path: '/api/v1/disbursements/execute',
      body: JSON.stringify({
        quote_id: 'quote-uuid',
        idempotency_key: 'unique-payout-123',
        recipient: { msisdn: '+237612345678' },
      }),
      timestamp: '1705564800',
      nonce: '550e8400-e29b-41d4-a716-446655440000',
      origin: 'https://yourdomain.com',
    };
    expect(stringToSign(req)).toBe(
      'POST/api/v1/disbursements/execute{"quote_id":"quote-uuid","idempotency_key":"unique-payout-123","recipient":{"msisdn":"+237612345678"}}1705564800550e8400-e29b-41d4-a716-446655440000https://yourdomain.com',
    );
    expect(signRequest(req, SECRET)).toBe('64dc0b4fe947f568c4d996daff7efad6159f08d5d452da91bebdf1601b53fd91');
  });

  it('signs the GET list example with its query sorted by key and no body', () => {
    const req: SignableRequest = {
      method: 'get',
      path: '/api/v1/disbursements',
      query: { status: 'SUCCESS', limit: 20, offset: 0 },
      timestamp: '1705564800',
      nonce: '6f1c2a7e-0000-4000-8000-000000000001',
      origin: 'https://yourdomain.com',
    };
    expect(stringToSign(req)).toBe(
      'GET/api/v1/disbursementslimit=20&offset=0&status=SUCCESS17055648006f1c2a7e-0000-4000-8000-000000000001https://yourdomain.com',
    );
    expect(signRequest(req, SECRET)).toBe('a7eb54a2b869e15a422aeefcc25cb40cccdc41c15db662b8f252384a2763f33c');
  });

  it("signs the internal guide's wallets/quote string", () => {
    const req: SignableRequest = {
      method: 'POST',
      path: '/api/v1/wallets/quote',
      body: '{"gateway":"MTN_MOMO","amount":"150.00","currency":"EUR"}',
      timestamp: '1705564800',
      nonce: '550e8400-e29b-41d4-a716-446655440000',
      origin: 'http://localhost:3000',
    };
    expect(signRequest(req, SECRET)).toBe('4260543509e97a4397f83c7c25c77cbb684be013ea2364f449d592d73fe338d4');
  });

  it('signs query values raw, not percent-encoded', () => {
    expect(sortedQueryString({ startDate: '2024-01-01T00:00:00Z', a: 'x y' })).toBe('a=x y&startDate=2024-01-01T00:00:00Z');
  });
});

describe('signRequest: properties', () => {
  const text = fc.string({ minLength: 1, maxLength: 40 });
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: text.map((s) => `/${s}`),
    query: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 4 }),
    body: fc.string({ maxLength: 80 }),
    timestamp: fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }).map(String),
    nonce: fc.uuid(),
    origin: text,
  });
  const components = ['method', 'path', 'query', 'body', 'timestamp', 'nonce', 'origin'] as const;

  it('changes whenever any one component changes', () => {
    fc.assert(
      fc.property(request, fc.constantFrom(...components), text, (req, component, extra) => {
        const changed: SignableRequest = { ...req };
        switch (component) {
          case 'method':
            changed.method = req.method === 'GET' ? 'POST' : 'GET';
            break;
          case 'query':
            changed.query = { ...req.query, [`~${extra}`]: extra };
            break;
          default:
            changed[component] = `${req[component]}${extra}`;
        }
        expect(signRequest(changed, SECRET)).not.toBe(signRequest(req, SECRET));
      }),
    );
  });

  it('changes with the secret and is always 64 lowercase hex characters', () => {
    fc.assert(
      fc.property(request, text, (req, other) => {
        const sig = signRequest(req, SECRET);
        expect(sig).toMatch(/^[0-9a-f]{64}$/);
        expect(signRequest(req, `${SECRET}${other}`)).not.toBe(sig);
      }),
    );
  });

  it('does not depend on the order the query keys were inserted in', () => {
    fc.assert(
      fc.property(request, (req) => {
        const reversed = Object.fromEntries(Object.entries(req.query).reverse());
        expect(signRequest({ ...req, query: reversed }, SECRET)).toBe(signRequest(req, SECRET));
      }),
    );
  });
});
