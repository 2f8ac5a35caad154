import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, pay, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  // Never-resolving number: the payout stays PROCESSING, so every read goes upstream (no final cache).
  stack = await startStack({ env: { RECONCILE_INTERVAL_MS: '600000' } });
  token = await stack.token('loader-app', 'payouts:write payouts:read');
});
afterAll(() => stack.close());

const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get').length;

describe('DataLoader', () => {
  it('reads one payout named K times in one operation with a single upstream GET', async () => {
    const id = await pay(stack.gateway.url, token, 'dl-1', '+237670000005');
    const before = gets();
    const query = `query($id: ID!) { a: payout(id: $id) { amount } b: payout(id: $id) { currency } c: payout(id: $id) { createdAt totalAmount } }`;
    const res = await gql<Record<string, { amount?: string } | null>>(stack.gateway.url, query, { id }, token);
    expect(res.errors).toBeUndefined();
    // The sandbox's GET says "5000.00"; every Decimal goes out in one canonical form. The fields only
    // the GET has (the execute's answer carries neither) show that the read answered all three.
    expect(res.data?.['a']?.amount).toBe('5000');
    expect(res.data?.['c']).toEqual({ createdAt: expect.any(String), totalAmount: expect.stringMatching(/^\d+$/) });
    expect(gets() - before).toBe(1);
  });

  it('does not call upstream for fields an execute result already has', async () => {
    const quote = await gql<{ createQuote: { id: string } }>(
      stack.gateway.url,
      `mutation { createQuote(input: {gateway: MTN_MOMO, amount: "100", currency: "XAF", recipient: {msisdn: "+237670000005"}}) { ... on Quote { id } } }`,
      {},
      token,
    );
    const before = gets();
    await gql(
      stack.gateway.url,
      `mutation($q: ID!) { executeDisbursement(input: {quoteId: $q, idempotencyKey: "dl-2", recipient: {msisdn: "+237670000005"}}) { ... on Payout { id status isFinal correlationId } } }`,
      { q: quote.data?.createQuote.id },
      token,
    );
    expect(gets() - before).toBe(0);
  });

  it('primes the loader from a list: nested reads cost no GET', async () => {
    const before = gets();
    const res = await gql(stack.gateway.url, `query { payouts(first: 5) { edges { node { id amount currency totalAmount } } } }`, {}, token);
    expect(res.errors).toBeUndefined();
    expect(gets() - before).toBe(0);
  });
});
