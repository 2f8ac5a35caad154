/**
 * The store misbehaves around a payout. Redis forgets everything (no persistence, a failover to an empty
 * replica, a FLUSHALL) after a payout was made: no answer may tell the caller to start over with a new
 * key for that payment. Redis hangs for a moment during a claim: the key must not stay locked after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { EXECUTE, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let redis: RedisServerHandle;
let stack: TestStack;
let alice: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ instances: 2, env: { REDIS_URL: redis.url, MUTATION_RATE_LIMIT_PER_MINUTE: '100000' } });
  alice = await stack.token('alice');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

type ExecuteResult = { executeDisbursement: { __typename: string; id?: string; code?: string } };
const executes = () => stack.sandbox.requests.filter((r) => r.route === 'execute');
const MSISDN = '+237670000001';

async function quote(): Promise<string> {
  const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(MSISDN), alice);
  return q.data?.createQuote.id as string;
}
function execute(instance: number, quoteId: string, idempotencyKey: string) {
  return gql<ExecuteResult>(stack.gateways[instance]?.url as string, EXECUTE, { input: { quoteId, idempotencyKey, recipient: { msisdn: MSISDN } } }, alice);
}

describe('after Redis lost its data', () => {
  it("ZoPay's 'key already used' for another quote is not stored as the key's outcome: the original retry is never told the key was reused", async () => {
    const q1 = await quote();
    const paid = await execute(0, q1, 'order-lost-1');
    expect(paid.data?.executeDisbursement.__typename).toBe('Payout');

    await redis.client().flushall();

    // The same key for another payment: ZoPay refuses it (its record of the key survived).
    const q2 = await quote();
    const before = executes().length;
    const other = await execute(1, q2, 'order-lost-1');
    expect(other.data?.executeDisbursement.__typename).toBe('IdempotencyKeyReusedError');
    expect(executes().length).toBe(before + 1);

    // The original payment retried: the gateway lost its quote record, so it cannot check the quote
    // (QuoteNotFoundError, as the README says of data loss), but it must not answer "key reused, use a
    // new key", which would invite a second payout.
    for (const instance of [0, 1]) {
      const retry = await execute(instance, q1, 'order-lost-1');
      expect(retry.data?.executeDisbursement.__typename).not.toBe('IdempotencyKeyReusedError');
      expect(retry.data?.executeDisbursement.__typename).toBe('QuoteNotFoundError');
    }
    // ZoPay holds one payout for the key.
    const payouts = stack.sandbox.ledger.payouts().filter((p) => p.quoteId === q1 || p.quoteId === q2);
    expect(payouts).toHaveLength(1);
  });
});

describe('after Redis hung for a moment', () => {
  it('a claim that timed out does not leave the key locked once Redis resumes: the retry pays at once', async () => {
    const q = await quote();
    const before = executes().length;
    redis.pause();
    let timedOut: Awaited<ReturnType<typeof execute>>;
    try {
      timedOut = await execute(0, q, 'order-hung-1');
    } finally {
      redis.resume();
    }
    expect(timedOut.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true });
    expect(executes().length).toBe(before);
    const started = Date.now();
    const retry = await execute(1, q, 'order-hung-1');
    expect(retry.data?.executeDisbursement.__typename).toBe('Payout');
    // Without the release, the claim that ran on resume held the key for the lock's TTL: the retry
    // waited the whole duplicate wait and answered IdempotencyKeyInProgressError.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(executes().length).toBe(before + 1);
  });
});
