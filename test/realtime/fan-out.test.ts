import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';
import { sseSubscribe, until, wsClient, wsSubscribe } from '../helpers/subscribe.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ instances: 2, env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '600000' } });
  token = await stack.token('realtime-app');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

const [A, B] = [0, 1];
const url = (i: number) => (stack.gateways[i] as TestStack['gateway']).url;

describe('a webhook received by instance A reaches subscribers on instance B', () => {
  it('over graphql-ws: PROCESSING, then SUCCESS with isFinal, then completion', async () => {
    const id = await pay(url(A), token, 'ws-fanout-1', '+237670000005'); // stays PROCESSING until settled
    const client = wsClient(url(B), token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');
    expect(sub.events[0]).toMatchObject({ id, status: 'PROCESSING', isFinal: false });

    stack.sandbox.settle(id, 'SUCCESS'); // the sandbox's signed webhook goes to instance A
    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    expect(sub.events[1]?.isFinal).toBe(true);
    expect(sub.errors).toEqual([]);
    await client.dispose();
  });

  it('over SSE with a bearer header, the same way', async () => {
    const id = await pay(url(A), token, 'sse-fanout-1', '+237670000005');
    const sub = sseSubscribe(url(B), token, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');
    stack.sandbox.settle(id, 'FAILED', { code: 'DECLINED', message: 'Declined' });
    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'FAILED']);
  });

  it('fans one event out to subscribers on both instances', async () => {
    const id = await pay(url(A), token, 'both-1', '+237670000005');
    const ca = wsClient(url(A), token);
    const cb = wsClient(url(B), token);
    const subs = [wsSubscribe(ca, id), wsSubscribe(cb, id), sseSubscribe(url(A), token, id), sseSubscribe(url(B), token, id)];
    await until(() => subs.every((s) => s.events.length === 1), 5_000, 'snapshots');
    stack.sandbox.settle(id, 'SUCCESS');
    for (const s of subs) {
      expect(await s.done).toBe('complete');
      expect(s.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    }
    await Promise.all([ca.dispose(), cb.dispose()]);
  });

  it('emits one event then completes for a payout that is already final', async () => {
    const id = await pay(url(A), token, 'final-1', '+237670000005');
    stack.sandbox.settle(id, 'SUCCESS');
    await until(async () => (await stack.gateways[B]?.state.stores.payouts.get(id))?.status === 'SUCCESS', 5_000, 'webhook recorded');
    const client = wsClient(url(B), token);
    const sub = wsSubscribe(client, id);
    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['SUCCESS']);
    await client.dispose();
  });
});

describe('shared execution per event', () => {
  async function eventCounts(i: number): Promise<{ executed: number; shared: number; direct: number }> {
    const text = await (await fetch(`${url(i)}/metrics`)).text();
    const value = (kind: string) => Number(new RegExp(`^graphql_subscription_events_total\\{execution="${kind}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { executed: value('executed'), shared: value('shared'), direct: Number(/^graphql_subscription_direct_writes_total (\d+)/m.exec(text)?.[1] ?? 0) };
  }

  it('runs each distinct selection once per event, whatever the number of subscribers (graphql-ws and SSE alike)', async () => {
    const id = await pay(url(A), token, 'shared-exec-1', '+237670000005');
    const query = `subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal amount } }`;
    const other = `subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }`;
    const clients = [wsClient(url(A), token), wsClient(url(A), token)];
    const subs = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 2 ? sseSubscribe(url(A), token, id, query) : wsSubscribe(clients[i % 3] as ReturnType<typeof wsClient>, id, query),
    );
    const others = [wsSubscribe(clients[0] as ReturnType<typeof wsClient>, id, other), sseSubscribe(url(A), token, id, other)];
    await until(() => [...subs, ...others].every((s) => s.events.length === 1), 10_000, 'snapshots');
    const before = await eventCounts(A);

    stack.sandbox.settle(id, 'SUCCESS');
    for (const s of [...subs, ...others]) expect(await s.done).toBe('complete');
    const finals = subs.map((s) => JSON.stringify(s.events[1]));
    expect(new Set(finals).size).toBe(1);
    expect(subs[0]?.events[1]).toMatchObject({ id, status: 'SUCCESS', isFinal: true, amount: expect.any(String) });
    expect(others.map((s) => s.events[1])).toEqual([{ id, status: 'SUCCESS' }, { id, status: 'SUCCESS' }]);
    // Two distinct selections: two executions for the event; the other 30 subscribers reused a result.
    const after = await eventCounts(A);
    expect(after.executed - before.executed).toBe(2);
    expect(after.shared - before.shared).toBe(30);
    // The 21 graphql-ws subscribers got the final written in the event's turn; the 11 over SSE through Yoga.
    expect(after.direct - before.direct).toBe(21);
    await Promise.all(clients.map((c) => c.dispose()));
  });
});

describe('a final the webhook does not fully describe', () => {
  it('is read once, then written to every graphql-ws subscriber, with completedAt from ZoPay', async () => {
    const metric = async () => Number(/^graphql_subscription_direct_writes_total (\d+)/m.exec(await (await fetch(`${url(A)}/metrics`)).text())?.[1] ?? 0);
    const id = await pay(url(A), token, 'async-final-1', '+237670000005');
    const client = wsClient(url(A), token);
    // ZoPay's webhooks carry no completed_at: the final's completedAt needs a read.
    const subs = Array.from({ length: 5 }, () => wsSubscribe(client, id));
    await until(() => subs.every((s) => s.events.length === 1), 5_000, 'snapshots');
    const before = await metric();
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.includes(id)).length;
    const getsBefore = gets();

    stack.sandbox.settle(id, 'SUCCESS');
    for (const s of subs) {
      expect(await s.done).toBe('complete');
      expect(s.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
      expect((s.events[1] as { completedAt?: string | null } | undefined)?.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(s.errors).toEqual([]);
    }
    expect(await metric()).toBe(before + 5);
    expect(gets() - getsBefore).toBe(1);
    await client.dispose();
  });
});

describe('authorization before subscription', () => {
  let probe: Redis;
  beforeAll(() => {
    probe = redis.client();
  });

  it("treats another caller's payout as missing and subscribes nothing in Redis", async () => {
    const id = await pay(url(A), token, 'private-1', '+237670000005');
    const mallory = await stack.token('mallory');
    const client = wsClient(url(B), mallory);
    const theirs = wsSubscribe(client, id);
    const missing = wsSubscribe(client, 'no-such-payout');
    await Promise.all([theirs.done, missing.done]);
    expect(theirs.events).toEqual([]);
    expect(JSON.stringify(theirs.errors)).toContain('NOT_FOUND');
    expect(JSON.stringify(theirs.errors)).toBe(JSON.stringify(missing.errors));
    expect(await redis.numSub(`zopay:payout:${id}`)).toBe(0);
    expect(await probe.pubsub('NUMSUB', `zopay:payout:${id}`)).toEqual([`zopay:payout:${id}`, 0]);
    await client.dispose();
  });

  it('closes a graphql-ws connection with 4403 for a bad token', async () => {
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(url(B), 'not-a-token');
      client.on('closed', (e) => resolve((e as { code: number }).code));
      const sub = wsSubscribe(client, 'x');
      void sub.done;
    });
    expect(await closed).toBe(4403);
  });

  it('releases the Redis channel when the last subscriber leaves', async () => {
    const id = await pay(url(A), token, 'release-1', '+237670000005');
    const client = wsClient(url(B), token);
    const s1 = wsSubscribe(client, id);
    const s2 = wsSubscribe(client, id);
    await until(() => s1.events.length === 1 && s2.events.length === 1, 5_000, 'snapshots');
    expect(await redis.numSub(`zopay:payout:${id}`)).toBe(1); // two local subscribers, one Redis subscription
    await s1.close();
    await s2.close();
    await until(async () => (await redis.numSub(`zopay:payout:${id}`)) === 0, 5_000, 'unsubscribe');
    await client.dispose();
  });
});
