import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Payout } from '../../src/zopay/types.js';
import { connectWithoutPublish } from '../helpers/redis.js';
import { IMPLEMENTATIONS, payout, useStores } from './harness.js';

const TTL = 7 * 24 * 3600;

describe.each(IMPLEMENTATIONS)('webhook delivery recording (%s)', (kind) => {
  const h = useStores(kind);

  it('applies a delivery once: the same delivery id three times is one apply and two duplicates (T21)', async () => {
    const { stores } = h();
    const p = payout({ id: 'po_1', status: 'SUCCESS' });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: p, dedupeTtlSeconds: TTL }));
    expect(results).toEqual([
      { duplicate: false, result: { outcome: 'created', current: p }, published: false },
      { duplicate: true },
      { duplicate: true },
    ]);
  });

  it('lets exactly one of many concurrent duplicates through, across instances', async () => {
    const { stores, otherInstance } = h();
    const other = await otherInstance();
    const p = payout({ id: 'po_2', status: 'PROCESSING' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? other : stores).deliveries.recordDelivery({ deliveryId: 'd-concurrent', payout: p, dedupeTtlSeconds: TTL }),
      ),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });

  it('records a replayed delivery of a stale event without changing the status', async () => {
    const { stores } = h();
    await stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: payout({ id: 'po_3', status: 'SUCCESS' }), dedupeTtlSeconds: TTL });
    const late = await stores.deliveries.recordDelivery({
      deliveryId: 'd0',
      payout: payout({ id: 'po_3', status: 'PROCESSING' }),
      dedupeTtlSeconds: TTL,
    });
    expect(late).toMatchObject({ duplicate: false, result: { outcome: 'stale', current: { status: 'SUCCESS' } } });
    await expect(
      stores.deliveries.recordDelivery({ deliveryId: 'd0', payout: payout({ id: 'po_3', status: 'PROCESSING' }), dedupeTtlSeconds: TTL }),
    ).resolves.toEqual({ duplicate: true });
  });

  it('treats different delivery ids for the same event as separate deliveries', async () => {
    const { stores } = h();
    const p = payout({ id: 'po_4', status: 'SUCCESS' });
    const first = await stores.deliveries.recordDelivery({ deliveryId: 'a', payout: p, dedupeTtlSeconds: TTL });
    const second = await stores.deliveries.recordDelivery({ deliveryId: 'b', payout: p, dedupeTtlSeconds: TTL });
    expect([first, second].map((r) => (r.duplicate ? 'dup' : r.result.outcome))).toEqual(['created', 'unchanged']);
  });

  it('remembers ignored deliveries', async () => {
    const { stores } = h();
    await expect(stores.deliveries.recordIgnored('ign-1', TTL)).resolves.toEqual({ duplicate: false });
    await expect(stores.deliveries.recordIgnored('ign-1', TTL)).resolves.toEqual({ duplicate: true });
  });
});

describe.each(IMPLEMENTATIONS)('webhook delivery publishing (%s)', (kind) => {
  const h = useStores(kind);

  it('publishes an advance on the given channel in the same step, and nothing else (one round trip per webhook)', async () => {
    const { stores, server, prefix } = h();
    const channel = `${prefix}payout:po_pub`;
    const messages: string[] = [];
    const listener = server?.client().duplicate();
    onTestFinished(() => listener?.disconnect());
    if (listener) {
      await listener.subscribe(channel);
      listener.on('message', (_c: string, m: string) => messages.push(m));
    }
    const record = (deliveryId: string, status: Payout['status']) =>
      stores.deliveries.recordDelivery({ deliveryId, payout: payout({ id: 'po_pub', status }), dedupeTtlSeconds: TTL, publishTo: channel });
    const outcomes = [];
    for (const [id, status] of [
      ['d1', 'PENDING'], // created: the gateway never saw it, nothing to tell
      ['d2', 'PROCESSING'], // advanced
      ['d2', 'PROCESSING'], // duplicate
      ['d3', 'PROCESSING'], // unchanged
      ['d4', 'PENDING'], // stale
      ['d5', 'SUCCESS'], // advanced
    ] as const) {
      const r = await record(id, status);
      outcomes.push(r.duplicate ? 'duplicate' : `${r.result.outcome}${r.published ? '+published' : ''}`);
    }
    if (kind === 'memory') {
      // The memory store has nothing to publish on: the webhook handler publishes through its bus.
      expect(outcomes).toEqual(['created', 'advanced', 'duplicate', 'unchanged', 'stale', 'advanced']);
      return;
    }
    expect(outcomes).toEqual(['created', 'advanced+published', 'duplicate', 'unchanged', 'stale', 'advanced+published']);
    for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    // What was stored, as stored: the bus decodes it like any message.
    expect(messages.map((m) => (JSON.parse(m) as Payout).status)).toEqual(['PROCESSING', 'SUCCESS']);
    expect(messages.at(-1)).toBe(await server?.client().get(`${prefix}payout:{po_pub}:status`));
  });
});

describe('webhook delivery keys (redis)', () => {
  const h = useStores('redis');

  it('stores the delivery id under the payout hash tag with the dedupe TTL', async () => {
    const { stores, server, prefix } = h();
    await stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: payout({ id: 'po_k', status: 'PENDING' }), dedupeTtlSeconds: 3600 });
    const ttl = await server?.client().ttl(`${prefix}payout:{po_k}:delivery:d1`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('keeps the recorded advance and reports published: false when the PUBLISH itself fails', async () => {
    const { server, prefix, clock } = h();
    if (!server) throw new Error('redis-server not started');
    // PUBLISH fails inside the script after the delivery and the status are written, which a script
    // cannot undo.
    const { redis, close } = await connectWithoutPublish(server, 'test-nopub');
    try {
      await expect(redis.publish('any', 'x')).rejects.toThrow(/NOPERM/);
      const stores = createRedisStores({ redis, prefix, clock });
      const channel = `${prefix}payout:po_np`;
      await stores.payouts.apply(payout({ id: 'po_np', status: 'PROCESSING' }));
      const recorded = await stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: payout({ id: 'po_np', status: 'SUCCESS' }), dedupeTtlSeconds: TTL, publishTo: channel });
      // The caller is told to publish itself (the webhook handler then publishes through its bus).
      expect(recorded).toMatchObject({
        duplicate: false,
        result: { outcome: 'advanced', current: { status: 'SUCCESS' } },
        published: false,
        publishError: expect.stringMatching(/publish/i),
      });
      await expect(stores.payouts.get('po_np')).resolves.toMatchObject({ status: 'SUCCESS' });
      await expect(
        stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: payout({ id: 'po_np', status: 'SUCCESS' }), dedupeTtlSeconds: TTL, publishTo: channel }),
      ).resolves.toEqual({ duplicate: true });
    } finally {
      await close();
    }
  });

  it('refuses an empty publish channel before touching anything', async () => {
    const { stores } = h();
    await expect(
      stores.deliveries.recordDelivery({ deliveryId: 'd', payout: payout({ id: 'po_e', status: 'SUCCESS' }), dedupeTtlSeconds: TTL, publishTo: '' }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(stores.payouts.get('po_e')).resolves.toBeUndefined();
  });
});
