import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, waitForReady } from '../../src/lib/redis.js';
import { StoreUnavailableError } from '../../src/stores/errors.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Stores } from '../../src/stores/types.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { payout } from './harness.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);

const DAY = 24 * 3600;

/** Every kind of store call, so each one is checked for fail-fast behaviour. */
function everyStoreCall(stores: Stores): Record<string, () => Promise<unknown>> {
  return {
    apply: () => stores.payouts.apply(payout({ id: 'po_f', status: 'PENDING' })),
    get: () => stores.payouts.get('po_f'),
    getMany: () => stores.payouts.getMany(['po_f', 'po_g']),
    recordDelivery: () =>
      stores.deliveries.recordDelivery({ deliveryId: 'd-f', payout: payout({ id: 'po_f', status: 'SUCCESS' }), dedupeTtlSeconds: DAY }),
    recordIgnored: () => stores.deliveries.recordIgnored('i-f', DAY),
    setOwner: () => stores.owners.setOwner('po_f', 'alice'),
    listOwned: () => stores.owners.listOwned('alice', { offset: 0, limit: 10 }),
    quote: () => stores.quotes.get('q'),
    begin: () =>
      stores.idempotency.begin({ scope: 's', fingerprint: 'f', lockOwner: 'o', lockTtlMs: 1_000, recordTtlSeconds: DAY }),
    complete: () => stores.idempotency.complete({ scope: 's', lockOwner: 'o', result: 'r', recordTtlSeconds: DAY }),
    take: () => stores.rateLimiter.take({ key: 'k', limit: 1, windowMs: 1_000 }),
  };
}

async function expectAllUnavailableWithin(stores: Stores, ms: number): Promise<void> {
  const started = Date.now();
  const outcomes = await Promise.all(
    Object.entries(everyStoreCall(stores)).map(async ([name, call]) => [name, await call().then(() => 'resolved', (e: unknown) => e)] as const),
  );
  const elapsed = Date.now() - started;
  for (const [name, outcome] of outcomes) {
    expect(outcome, name).toBeInstanceOf(StoreUnavailableError);
    expect(outcome, name).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  }
  expect(elapsed).toBeLessThan(ms);
}

describe('stores while Redis is down (T12, T26)', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let stores: Stores;

  beforeAll(async () => {
    server = await startRedis({ persistent: true });
    redis = createRedisConnection(server.url, { name: 'faults', role: 'command', onError: () => undefined });
    await waitForReady(redis, 5_000);
    stores = createRedisStores({ redis, prefix: 'faults:', clock: Date });
  });

  afterEach(async () => {
    server.resume();
    if (redis.status !== 'ready') {
      await server.restart().catch(() => undefined);
      await waitForReady(redis, 5_000);
    }
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('rejects every store call with StoreUnavailableError within 2 s once Redis is killed', async () => {
    await server.kill();
    await expectAllUnavailableWithin(stores, 2_000);
    // And again while ioredis keeps reconnecting in the background.
    await new Promise((r) => setTimeout(r, 300));
    await expectAllUnavailableWithin(stores, 2_000);
  });

  it('rejects every store call within 2 s when Redis hangs (no answer, socket open)', async () => {
    server.pause();
    await expectAllUnavailableWithin(stores, 2_000);
  });

  it('fails a call that is in flight when Redis dies, and never re-sends it after the restart', async () => {
    server.pause();
    const inFlight = stores.deliveries
      .recordDelivery({ deliveryId: 'd-inflight', payout: payout({ id: 'po_if', status: 'SUCCESS' }), dedupeTtlSeconds: DAY })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await server.kill();
    await expect(inFlight).resolves.toBeInstanceOf(StoreUnavailableError);
    await server.restart();
    await waitForReady(redis, 5_000);
    await expect(stores.payouts.get('po_if')).resolves.toBeUndefined();
  });

  it('processes a webhook delivery exactly once when ZoPay retries it after Redis recovers', async () => {
    const input = { deliveryId: 'd-retry', payout: payout({ id: 'po_r', status: 'SUCCESS' }), dedupeTtlSeconds: DAY };
    await server.kill();
    await expect(stores.deliveries.recordDelivery(input)).rejects.toBeInstanceOf(StoreUnavailableError);
    await server.restart();
    await waitForReady(redis, 5_000);
    await expect(stores.deliveries.recordDelivery(input)).resolves.toMatchObject({ duplicate: false, result: { outcome: 'created' } });
    await expect(stores.deliveries.recordDelivery(input)).resolves.toEqual({ duplicate: true });
  });

  it('keeps recorded deliveries and idempotency records across a Redis crash (appendonly)', async () => {
    const input = { deliveryId: 'd-durable', payout: payout({ id: 'po_d', status: 'SUCCESS' }), dedupeTtlSeconds: DAY };
    await stores.deliveries.recordDelivery(input);
    await stores.idempotency.begin({ scope: 'dur', fingerprint: 'f', lockOwner: 'o', lockTtlMs: 60_000, recordTtlSeconds: DAY });
    await server.kill();
    await server.restart();
    await waitForReady(redis, 5_000);
    await expect(stores.deliveries.recordDelivery(input)).resolves.toEqual({ duplicate: true });
    await expect(
      stores.idempotency.begin({ scope: 'dur', fingerprint: 'f', lockOwner: 'o2', lockTtlMs: 60_000, recordTtlSeconds: DAY }),
    ).resolves.toMatchObject({ kind: 'in_progress' });
  });
});
