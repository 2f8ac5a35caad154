import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { gql, pay, startStack, type TestStack } from '../helpers/gateway.js';
import { redisKeys } from '../../src/stores/redis/keys.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { sseSubscribe, until, wsClient, wsSubscribe, type Subscription } from '../helpers/subscribe.js';

/**
 * Each subscription event reads what it lacks through fresh loaders. The snapshot of a payout just
 * executed lacks its fees, so a selection with `gatewayFee` makes the snapshot read the payout once
 * (PROCESSING, no completion time). The final event (a webhook, which carries no completion time) must
 * then read it again: an answer cached from the snapshot would say `completedAt: null` for a payout
 * that completed.
 */
const QUERY = `subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal gatewayFee completedAt } }`;

interface DetailedEvent {
  status: string;
  gatewayFee: string | null;
  completedAt: string | null;
}

let stack: TestStack;
let token: string;

beforeAll(async () => {
  // No reconcile read between the snapshot and the webhook: the GET counts below are the events' own.
  stack = await startStack({ env: { RECONCILE_INTERVAL_MS: '600000' } });
  token = await stack.token('event-loaders');
});
afterAll(() => stack.close());

async function finalOf(open: (payoutId: string) => Subscription, key: string): Promise<{ events: DetailedEvent[]; gets: number }> {
  const id = await pay(stack.gateway.url, token, key, '+237670000005'); // stays PROCESSING until settled
  const getsOf = () => stack.sandbox.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/disbursements/${id}`)).length;
  const sub = open(id);
  const events = sub.events as unknown as DetailedEvent[];
  for (let i = 0; i < 200 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(events[0]).toMatchObject({ status: 'PROCESSING', completedAt: null });
  expect(events[0]?.gatewayFee).toEqual(expect.any(String));
  const afterSnapshot = getsOf();
  expect(afterSnapshot).toBe(1);

  stack.sandbox.settle(id, 'SUCCESS');
  expect(await sub.done).toBe('complete');
  expect(sub.errors).toEqual([]);
  return { events, gets: getsOf() - afterSnapshot };
}

describe('loaders per subscription event', () => {
  it('graphql-ws: the final event reads the payout afresh instead of reusing the snapshot’s read', async () => {
    const client = wsClient(stack.gateway.url, token);
    onTestFinished(() => client.dispose());
    const { events, gets } = await finalOf((id) => wsSubscribe(client, id, QUERY), 'event-loaders-ws');
    const final = events.at(-1);
    expect(final?.status).toBe('SUCCESS');
    expect(gets).toBe(1);
    // The sandbox's GET gives the completion time; the snapshot's cached read could not have.
    expect(final?.completedAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));
  });

  it('SSE: the same', async () => {
    const { events, gets } = await finalOf((id) => sseSubscribe(stack.gateway.url, token, id, QUERY), 'event-loaders-sse');
    expect(events.at(-1)?.status).toBe('SUCCESS');
    expect(gets).toBe(1);
    expect(events.at(-1)?.completedAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));
  });

  it('a query still reads a payout once however often it names it', async () => {
    const id = await pay(stack.gateway.url, token, 'event-loaders-query', '+237670000005');
    const before = stack.sandbox.requests.filter((r) => r.method === 'GET').length;
    const res = await gql<Record<string, { gatewayFee: string | null }>>(
      stack.gateway.url,
      `query Q($id: ID!) { a: payout(id: $id) { gatewayFee } b: payout(id: $id) { gatewayFee createdAt } }`,
      { id },
      token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.['a']?.gatewayFee).toEqual(expect.any(String));
    expect(stack.sandbox.requests.filter((r) => r.method === 'GET').length - before).toBe(1);
  });
});

describe('a snapshot read from ZoPay (the status record is gone from the store)', () => {
  let redis: RedisServerHandle;
  let redisStack: TestStack;
  let redisToken: string;

  beforeAll(async () => {
    redis = await startRedis();
    redisStack = await startStack({ env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '600000' } });
    redisToken = await redisStack.token('event-loaders-redis');
  });
  afterAll(async () => {
    await redisStack?.close();
    await redis?.stop();
  });

  it('serves the first event from that one read (a whole payout), and the final event reads afresh', async () => {
    const id = await pay(redisStack.gateway.url, redisToken, 'event-loaders-gone', '+237670000005');
    // Only the status record goes (as when it expires before the owner record): the snapshot must come
    // from ZoPay through the operation's loader, and the first event's fields from the same read.
    expect(await redis.client().del(redisKeys('zopay:').status(id))).toBe(1); // the default REDIS_KEY_PREFIX
    const getsOf = () => redisStack.sandbox.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/disbursements/${id}`)).length;
    const client = wsClient(redisStack.gateway.url, redisToken);
    onTestFinished(() => client.dispose());
    const sub = wsSubscribe(client, id, QUERY);
    const events = sub.events as unknown as DetailedEvent[];
    await until(() => events.length >= 1, 5_000, 'snapshot');
    expect(events[0]).toMatchObject({ status: 'PROCESSING', completedAt: null, gatewayFee: expect.any(String) });
    expect(getsOf()).toBe(1);

    redisStack.sandbox.settle(id, 'SUCCESS');
    expect(await sub.done).toBe('complete');
    expect(sub.errors).toEqual([]);
    expect(events.at(-1)).toMatchObject({ status: 'SUCCESS', completedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    expect(getsOf()).toBe(2);
  });
});
