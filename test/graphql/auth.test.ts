import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYOUT, QUOTE, gql, pay, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let alice: string;
let bob: string;
let auditor: string;
let alicePayout: string;

beforeAll(async () => {
  stack = await startStack();
  alice = await stack.token('alice');
  bob = await stack.token('bob');
  auditor = await stack.token('auditor', 'payouts:read');
  alicePayout = await pay(stack.gateway.url, alice, 'alice-1');
});
afterAll(() => stack.close());

describe('authentication and authorization', () => {
  it('answers UNAUTHENTICATED without a token, and sends nothing upstream', async () => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, QUOTE, quoteInput());
    expect(res.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('answers UNAUTHENTICATED for a forged or expired token', async () => {
    const forged = `${alice.slice(0, -4)}AAAA`;
    expect((await gql(stack.gateway.url, QUOTE, quoteInput(), forged)).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const expired = await stack.token('alice', 'payouts:write', -60);
    expect((await gql(stack.gateway.url, QUOTE, quoteInput(), expired)).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('stops accepting a token once it expires, even after it was used', async () => {
    const shortLived = await stack.token('alice', 'payouts:write', 2);
    const query = `query($id: ID!) { payout(id: $id) { id } }`;
    expect((await gql(stack.gateway.url, query, { id: alicePayout }, shortLived)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await gql(stack.gateway.url, query, { id: alicePayout }, shortLived)).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('answers FORBIDDEN to a token with neither payouts:read nor payouts:write, for every read', async () => {
    for (const scope of ['', 'profile:read']) {
      const none = await stack.token('alice', scope);
      const one = await gql(stack.gateway.url, `query($id: ID!) { payout(id: $id) { id } }`, { id: alicePayout }, none);
      expect(one.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect(one.data?.['payout'] ?? null).toBeNull();
      const list = await gql(stack.gateway.url, 'query { payouts(first: 5) { totalCount } }', {}, none);
      expect(list.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const sse = await fetch(`${stack.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${none}` },
        body: JSON.stringify({ query: 'subscription($id: ID!) { payoutStatus(payoutId: $id) { id status } }', variables: { id: alicePayout } }),
      });
      const text = await sse.text();
      expect(text).toContain('FORBIDDEN');
      expect(text).not.toContain('"status"');
    }
  });

  it('answers FORBIDDEN when the token lacks payouts:write', async () => {
    const res = await gql(stack.gateway.url, QUOTE, quoteInput(), auditor);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('shows the owner its payout', async () => {
    const res = await gql<{ payout: { id: string } | null }>(stack.gateway.url, PAYOUT, { id: alicePayout }, alice);
    expect(res.data?.payout?.id).toBe(alicePayout);
  });

  it("shows another caller's payout exactly like a missing one", async () => {
    const other = await gql(stack.gateway.url, PAYOUT, { id: alicePayout }, bob);
    const missing = await gql(stack.gateway.url, PAYOUT, { id: 'does-not-exist' }, bob);
    expect(other).toEqual(missing);
    expect(other.data).toEqual({ payout: null });
  });

  it('shows every payout to payouts:read', async () => {
    const res = await gql<{ payout: { id: string } | null }>(stack.gateway.url, PAYOUT, { id: alicePayout }, auditor);
    expect(res.data?.payout?.id).toBe(alicePayout);
  });

  it('lists only the caller\'s own payouts without payouts:read', async () => {
    await pay(stack.gateway.url, bob, 'bob-1');
    const list = `query { payouts(first: 50) { totalCount edges { node { id } } } }`;
    const forBob = await gql<{ payouts: { totalCount: number; edges: { node: { id: string } }[] } }>(stack.gateway.url, list, {}, bob);
    expect(forBob.data?.payouts.totalCount).toBe(1);
    expect(forBob.data?.payouts.edges.map((e) => e.node.id)).not.toContain(alicePayout);
    const forAuditor = await gql<{ payouts: { totalCount: number; edges: { node: { id: string } }[] } }>(stack.gateway.url, list, {}, auditor);
    expect(forAuditor.data?.payouts.edges.map((e) => e.node.id)).toContain(alicePayout);
    expect(forAuditor.data?.payouts.totalCount).toBeGreaterThanOrEqual(2);
  });
});
