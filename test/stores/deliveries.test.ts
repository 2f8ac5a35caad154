import { describe, expect, it } from 'vitest';
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
      { duplicate: false, result: { outcome: 'created', current: p } },
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

describe('webhook delivery keys (redis)', () => {
  const h = useStores('redis');

  it('stores the delivery id under the payout hash tag with the dedupe TTL', async () => {
    const { stores, server, prefix } = h();
    await stores.deliveries.recordDelivery({ deliveryId: 'd1', payout: payout({ id: 'po_k', status: 'PENDING' }), dedupeTtlSeconds: 3600 });
    const ttl = await server?.client().ttl(`${prefix}payout:{po_k}:delivery:d1`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });
});
