import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';
import { until, wsClient, wsSubscribe } from '../helpers/subscribe.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedis({ persistent: true });
  // timeScale 600: ZoPay's 1-minute webhook retry arrives after 100 ms.
  stack = await startStack({
    instances: 2,
    env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '1000' },
    sandbox: { timeScale: 600, processingDelayMs: 600_000, resolveOnFirstCheck: false },
  });
  token = await stack.token('faults-app');
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await stack.close();
  await redis.stop();
});

describe('Redis outages', () => {
  it('answers 503 to a webhook while Redis is down, then processes ZoPay\'s retry exactly once', async () => {
    const id = await pay(stack.gateway.url, token, 'outage-1', '+237670000005');
    const client = wsClient(stack.gateways[1]?.url as string, token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');

    await redis.kill();
    stack.sandbox.settle(id, 'SUCCESS');
    await until(() => stack.sandbox.webhooks.deliveries().some((d) => d.payoutId === id && d.attempts.some((a) => a.statusCode === 503)), 5_000, 'a 503 answer');
    await redis.restart();

    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await until(() => stack.sandbox.webhooks.deliveries().some((d) => d.payoutId === id && d.status === 'DELIVERED'), 10_000, 'delivered');
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('SUCCESS');
    expect(unhandled).toEqual([]);
    await client.dispose();
  });

  it('still delivers the final status to a subscriber when Redis restarts mid-subscription', async () => {
    const id = await pay(stack.gateway.url, token, 'restart-1', '+237670000005');
    const client = wsClient(stack.gateways[1]?.url as string, token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');

    await redis.kill();
    await redis.restart();
    stack.sandbox.settle(id, 'FAILED', { code: 'DECLINED', message: 'Declined' });

    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'FAILED']);
    expect(unhandled).toEqual([]);
    await client.dispose();
  });
});

describe('subscribing while Redis is down', () => {
  it('answers UPSTREAM_UNAVAILABLE (retry is safe), not a masked internal error', async () => {
    const id = await pay(stack.gateway.url, token, 'sub-down-1', '+237670000005');
    await redis.kill();
    try {
      const client = wsClient(stack.gateways[1]?.url as string, token);
      const sub = wsSubscribe(client, id);
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(JSON.stringify(sub.errors)).toContain('UPSTREAM_UNAVAILABLE');
      expect(JSON.stringify(sub.errors)).not.toContain('INTERNAL_SERVER_ERROR');
      await client.dispose();
    } finally {
      await redis.restart();
      // The gateways reconnect with a backoff: wait until both say they are ready again.
      for (const g of stack.gateways) await until(async () => (await fetch(`${g.url}/readyz`)).status === 200, 10_000, 'readiness');
    }
  });
});

/** ZoPay GETs of one payout during the next `ms` (the reconcilers' reads). */
async function getsDuring(id: string, ms: number): Promise<number> {
  const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
  const before = gets();
  await new Promise((r) => setTimeout(r, ms));
  return gets() - before;
}

describe('lost webhooks', () => {
  it('the reconciler ends the subscription when ZoPay never delivers the webhook', async () => {
    stack.sandbox.faults.setWebhookFaults({ dropRate: 1 });
    try {
      const id = await pay(stack.gateway.url, token, 'lost-1', '+237670000005');
      const client = wsClient(stack.gateways[1]?.url as string, token);
      const sub = wsSubscribe(client, id);
      await until(() => sub.events.length === 1, 5_000, 'snapshot');
      const getsBefore = stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
      stack.sandbox.settle(id, 'SUCCESS');
      expect(await sub.done).toBe('complete');
      expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
      const gets = stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length - getsBefore;
      expect(gets).toBeGreaterThanOrEqual(1);
      await client.dispose();
    } finally {
      stack.sandbox.faults.setWebhookFaults({});
    }
  });

  it('polls once per interval per payout however many subscribers watch it', async () => {
    const id = await pay(stack.gateway.url, token, 'many-1', '+237670000005');
    const client = wsClient(stack.gateways[1]?.url as string, token);
    const subs = Array.from({ length: 20 }, () => wsSubscribe(client, id));
    await until(() => subs.every((s) => s.events.length === 1), 5_000, 'snapshots');
    const polled = await getsDuring(id, 3_200);
    // Instance B polls it (A has no subscriber): about 3 intervals, never 20 per interval.
    expect(polled).toBeGreaterThanOrEqual(2);
    expect(polled).toBeLessThanOrEqual(4);
    await Promise.all(subs.map((s) => s.close()));
    await client.dispose();
  });

  it('polls once per interval per payout across instances: subscribers on both make one read per interval, not one per instance', async () => {
    const id = await pay(stack.gateway.url, token, 'many-2', '+237670000005');
    const clients = stack.gateways.map((g) => wsClient(g.url, token));
    const subs = clients.flatMap((c) => Array.from({ length: 5 }, () => wsSubscribe(c, id)));
    await until(() => subs.every((s) => s.events.length === 1), 5_000, 'snapshots');
    const polled = await getsDuring(id, 4_200);
    // 4 intervals of 1 s: about 4 reads; two instances each reading would make about 8.
    expect(polled).toBeGreaterThanOrEqual(3);
    expect(polled).toBeLessThanOrEqual(5);
    await Promise.all(subs.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.dispose()));
  });
});
