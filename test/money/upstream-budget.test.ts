import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({
    instances: 2,
    env: { REDIS_URL: redis.url, ZOPAY_RATE_LIMIT_PER_MINUTE: '20', MUTATION_RATE_LIMIT_PER_MINUTE: '100000' },
    sandbox: { rateLimitPerMinute: 100 },
  });
  token = await stack.token('budget-app');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

describe('the shared upstream budget', () => {
  it('keeps two instances together within the ZoPay limit and answers the rest RATE_LIMITED with retryAfter', async () => {
    const before = stack.sandbox.requests.length;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => gql(stack.gateways[i % 2]?.url as string, QUOTE, quoteInput(), token)),
    );
    const sent = stack.sandbox.requests.length - before;
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED');
    const ok = results.filter((r) => (r.data as { createQuote?: { __typename: string } } | null)?.createQuote?.__typename === 'Quote');
    // 20 per minute as a burst, plus at most the one slot that frees up while requests queue (≤ 2 s).
    expect(sent).toBeLessThanOrEqual(22);
    expect(ok.length).toBe(sent);
    expect(limited.length).toBe(40 - sent);
    for (const r of limited) expect(Number(r.errors?.[0]?.extensions?.['retryAfter'])).toBeGreaterThanOrEqual(1);
    expect(stack.sandbox.requests.slice(before).every((r) => r.status !== 429)).toBe(true);
  });
});

describe('429 from ZoPay', () => {
  it('waits as told between attempts, then succeeds', async () => {
    await new Promise((r) => setTimeout(r, 6_000)); // let the budget refill a few slots
    stack.sandbox.faults.inject({ route: 'quote', kind: 'rate429', times: 2, retryAfterSeconds: 1 });
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, QUOTE, quoteInput(), token);
    expect((res.data as { createQuote: { __typename: string } }).createQuote.__typename).toBe('Quote');
    const attempts = stack.sandbox.requests.slice(before);
    expect(attempts.map((a) => a.status)).toEqual([429, 429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  }, 20_000);
});
