/**
 * A subscriber leaves while Redis hangs: the instance's UNSUBSCRIBE times out, then runs when Redis
 * resumes. The next subscribers of that payout on that instance must be live on the channel again, or
 * the webhook's final (published by another instance) reaches nobody. The reconciler is off here (one
 * run per 10 minutes), so only pub/sub can deliver: the promise of design §6.6, not its safety net.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';
import { sseSubscribe, until, wsClient, wsSubscribe } from '../helpers/subscribe.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;

beforeAll(async () => {
  redis = await startRedis({ persistent: true });
  stack = await startStack({
    instances: 2,
    env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '600000' },
    sandbox: { timeScale: 600, processingDelayMs: 600_000, resolveOnFirstCheck: false },
  });
  token = await stack.token('hung-unsubscribe-app');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

describe('an UNSUBSCRIBE that timed out on a hung Redis', () => {
  it('leaves the next subscribers on that instance live: the final published by the other instance reaches them, over graphql-ws and SSE', async () => {
    const [a, b] = [stack.gateways[0]?.url as string, stack.gateways[1]?.url as string];
    const id = await pay(a, token, 'hung-unsub-1', '+237670000005');
    const channel = `zopay:payout:${id}`;
    const first = wsClient(b, token);
    const leaving = wsSubscribe(first, id);
    await until(() => leaving.events.length === 1, 5_000, 'the first snapshot');
    expect(await redis.numSub(channel)).toBe(1);

    redis.pause();
    try {
      await leaving.close(); // B unsubscribes: its UNSUBSCRIBE times out (1.5 s) and runs on resume
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      redis.resume();
    }
    await until(async () => (await redis.numSub(channel)) === 0, 5_000, 'the UNSUBSCRIBE run on resume');

    const second = wsClient(b, token);
    const ws = wsSubscribe(second, id);
    const sse = sseSubscribe(b, token, id);
    await until(() => ws.events.length === 1 && sse.events.length === 1, 5_000, 'the new snapshots');
    expect(await redis.numSub(channel)).toBe(1);

    stack.sandbox.settle(id, 'SUCCESS'); // its webhook goes to instance A
    expect(await ws.done).toBe('complete');
    expect(ws.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await until(() => sse.events.length === 2, 5_000, 'the final over SSE');
    expect(sse.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await sse.close();
    await first.dispose();
    await second.dispose();
  }, 30_000);
});
