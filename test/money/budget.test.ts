/**
 * The merchant's ZoPay budget (ZOPAY_RATE_LIMIT_PER_MINUTE, shared by every instance) is spent by reads
 * too: a client polling payouts must not leave payments without a slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { EXECUTE, PAYOUT, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let redis: RedisServerHandle;
let stack: TestStack;
let alice: string;

beforeAll(async () => {
  redis = await startRedis();
  // 10 ZoPay calls a minute for the whole merchant: reads may use 7 of them, payments all 10.
  stack = await startStack({ env: { REDIS_URL: redis.url, ZOPAY_RATE_LIMIT_PER_MINUTE: '10', MUTATION_RATE_LIMIT_PER_MINUTE: '100000' } });
  alice = await stack.token('alice');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

async function pay(key: string): Promise<{ __typename: string; id?: string }> {
  const q = await gql<{ createQuote: { __typename: string; id?: string } }>(stack.gateway.url, QUOTE, quoteInput('+237670000005'), alice);
  expect(q.errors).toBeUndefined();
  const e = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(
    stack.gateway.url,
    EXECUTE,
    { input: { quoteId: q.data?.createQuote.id, idempotencyKey: key, recipient: { msisdn: '+237670000005' } } },
    alice,
  );
  expect(e.errors).toBeUndefined();
  return e.data?.executeDisbursement as { __typename: string; id?: string };
}

describe("the merchant's ZoPay budget", () => {
  it('keeps room for payments however often a client polls: reads past their share get what the gateway knows', async () => {
    const first = await pay('budget-1');
    expect(first.__typename).toBe('Payout');
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get').length;
    const getsBefore = gets();
    // A client polls its pending payout twelve times in a row.
    for (let i = 0; i < 12; i++) {
      const res = await gql<{ payout: { id: string; status: string } | null }>(stack.gateway.url, PAYOUT, { id: first.id }, alice);
      expect(res.errors).toBeUndefined();
      expect(res.data?.payout).toMatchObject({ id: first.id, status: 'PROCESSING' });
    }
    // Two slots went to the first payment; reads stopped while three were left.
    expect(gets() - getsBefore).toBe(5);
    // Those three are there for the next payment (a quote and an execute).
    const second = await pay('budget-2');
    expect(second.__typename).toBe('Payout');
  });
});
