import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/events/memory-bus.js';
import type { EventBus } from '../../src/events/types.js';
import { createLogger } from '../../src/lib/logger.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Payout } from '../../src/zopay/types.js';
import { createWebhookHandler } from '../../src/webhooks/handler.js';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { connectWithoutPublish, startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { LogCapture } from '../security/support.js';

/**
 * The delivery script publishes an advance itself. When that PUBLISH fails (here: a Redis user without
 * channel rights), the advance stays recorded, the webhook is still accepted, the failure is logged with
 * Redis' reason, and the handler publishes through its bus instead. Real Redis, real HTTP; the bus is
 * the in-memory one, which stands for a bus that can still publish.
 */
const SECRET = 'whsec_fallback_test_secret_0123456789abcdef';
const PREFIX = 'fb:';

let redis: RedisServerHandle;
let server: Server | undefined;
let url = '';
const capture = new LogCapture();
const memoryBus = createMemoryEventBus();
/** The handler's bus: the in-memory one, or (T27) one whose publish never answers. */
let publishHangs = false;
const bus: EventBus = {
  publish: (p) => (publishHangs ? new Promise<void>(() => undefined) : memoryBus.publish(p)),
  subscribe: (id, listener) => memoryBus.subscribe(id, listener),
  onResync: (listener) => memoryBus.onResync(listener),
  close: () => memoryBus.close(),
  stats: () => memoryBus.stats(),
};
let stores: ReturnType<typeof createRedisStores>;
let connection: Awaited<ReturnType<typeof connectWithoutPublish>> | undefined;

beforeAll(async () => {
  redis = await startRedis();
  connection = await connectWithoutPublish(redis, 'test-nopub-handler');
  stores = createRedisStores({ redis: connection.redis, prefix: PREFIX, clock: { now: () => Date.now() } });
  const handler = createWebhookHandler({
    secrets: [SECRET],
    maxBodyBytes: 64 * 1024,
    dedupeTtlSeconds: 3_600,
    deliveries: stores.deliveries,
    bus,
    publishChannel: (id) => `${PREFIX}payout:${id}`,
    log: createLogger({ level: 'info', destination: capture }),
    clock: { now: () => Date.now() },
    reconcile: async () => undefined,
  });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await connection?.close();
  await memoryBus.close();
  await redis?.stop();
});

async function deliver(payoutId: string, deliveryId: string): Promise<number> {
  const raw = JSON.stringify({
    event: 'payout.completed',
    data: { payout_id: payoutId, amount: '5000', currency: 'XAF', gateway: 'MTN_MOMO', status: 'SUCCESS', total_deducted: '5075' },
    timestamp: new Date().toISOString(),
  });
  const headers = signedWebhookHeaders({ secret: SECRET, rawBody: raw, event: 'payout.completed', deliveryId, timestampMs: Date.now() });
  return (await fetch(`${url}/webhooks/zopay`, { method: 'POST', headers, body: raw })).status;
}

describe('a delivery whose in-script PUBLISH fails', () => {
  it('is accepted once, stays recorded, says why in the log and reaches subscribers through the bus', async () => {
    const id = 'po_fallback_1';
    await stores.payouts.apply({ id, status: 'PROCESSING', rawStatus: 'PROCESSING', source: 'execute' });
    const seen: Payout[] = [];
    const unsubscribe = await memoryBus.subscribe(id, (p) => seen.push(p));
    try {
      expect(await deliver(id, 'fb-d1')).toBe(200);
      expect(seen.map((p) => p.status)).toEqual(['SUCCESS']);
      await expect(stores.payouts.get(id)).resolves.toMatchObject({ status: 'SUCCESS' });
      const failure = capture.records().find((r) => r['msg'] === 'the record script could not publish the advance');
      expect(failure).toMatchObject({ payoutId: id, reason: expect.stringMatching(/publish/i) });
      // ZoPay's retry of the same delivery is a duplicate: nothing applied or published again.
      expect(await deliver(id, 'fb-d1')).toBe(200);
      expect(seen).toHaveLength(1);
    } finally {
      await unsubscribe();
    }
  });
});

describe('T27: a publish that hangs after the advance is recorded', () => {
  it('does not hold the webhook: 200 within the publish timeout (250 ms) and a warning, the advance recorded', async () => {
    const id = 'po_hanging_publish_1';
    await stores.payouts.apply({ id, status: 'PROCESSING', rawStatus: 'PROCESSING', source: 'execute' });
    publishHangs = true;
    try {
      const started = performance.now();
      expect(await deliver(id, 'hang-d1')).toBe(200);
      const ms = performance.now() - started;
      expect(ms).toBeGreaterThanOrEqual(240); // it did wait for the publish, up to its timeout
      expect(ms).toBeLessThan(1_500); // not held by the publish (the margin is for a loaded machine, not for the gateway)
      await expect(stores.payouts.get(id)).resolves.toMatchObject({ status: 'SUCCESS' });
      expect(capture.records().find((r) => r['msg'] === 'publish slow; answered anyway')).toMatchObject({ payoutId: id });
    } finally {
      publishHangs = false;
    }
  });
});
