import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { PAYOUT_STATUSES, type Payout } from '../../src/zopay/types.js';
import { IMPLEMENTATIONS, payout, useStores } from './harness.js';

describe.each(IMPLEMENTATIONS)('payout status store (%s)', (kind) => {
  const h = useStores(kind);

  it('creates the first snapshot and returns it', async () => {
    const { stores } = h();
    const p = payout({ id: 'po_1', status: 'PENDING', source: 'execute', amount: '5000', currency: 'XAF' });
    await expect(stores.payouts.apply(p)).resolves.toEqual({ outcome: 'created', current: p });
    await expect(stores.payouts.get('po_1')).resolves.toEqual(p);
  });

  it('advances PENDING → PROCESSING → SUCCESS, the newer values winning', async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'po_1', status: 'PENDING', amount: '5000' }));
    const processing = await stores.payouts.apply(payout({ id: 'po_1', status: 'PROCESSING', gatewayReference: 'GW1' }));
    expect(processing.outcome).toBe('advanced');
    expect(processing.current).toMatchObject({ status: 'PROCESSING', amount: '5000', gatewayReference: 'GW1' });
    const done = await stores.payouts.apply(
      payout({ id: 'po_1', status: 'SUCCESS', rawStatus: 'completed', completedAt: '2026-01-15T12:00:05Z', failure: null }),
    );
    expect(done).toEqual({
      outcome: 'advanced',
      current: {
        id: 'po_1',
        status: 'SUCCESS',
        rawStatus: 'completed',
        source: 'webhook',
        amount: '5000',
        gatewayReference: 'GW1',
        completedAt: '2026-01-15T12:00:05Z',
        failure: null,
      },
    });
  });

  it('never moves a payout backwards: an older status is stale and writes nothing', async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'po_1', status: 'PROCESSING' }));
    const stale = await stores.payouts.apply(payout({ id: 'po_1', status: 'PENDING', amount: '1' }));
    expect(stale.outcome).toBe('stale');
    expect(stale.current).toEqual(payout({ id: 'po_1', status: 'PROCESSING' }));
    await expect(stores.payouts.get('po_1')).resolves.toEqual(payout({ id: 'po_1', status: 'PROCESSING' }));
  });

  it('keeps a final status when an older non-final one arrives later (T24)', async () => {
    const { stores } = h();
    const success = payout({ id: 'po_1', status: 'SUCCESS', completedAt: '2026-01-15T12:00:05Z' });
    await stores.payouts.apply(success);
    const late = await stores.payouts.apply(payout({ id: 'po_1', status: 'PROCESSING' }));
    expect(late).toEqual({ outcome: 'stale', current: success });
  });

  it('reports a different final status as a conflict and keeps the first (T25)', async () => {
    const { stores } = h();
    const success = payout({ id: 'po_1', status: 'SUCCESS' });
    await stores.payouts.apply(success);
    for (const other of ['FAILED', 'CANCELLED'] as const) {
      const res = await stores.payouts.apply(payout({ id: 'po_1', status: other, failure: { message: 'declined' } }));
      expect(res).toEqual({ outcome: 'conflict', current: success });
    }
    await expect(stores.payouts.get('po_1')).resolves.toEqual(success);
  });

  it('merges newly known fields under the same status without changing known ones', async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'po_1', status: 'SUCCESS', rawStatus: 'completed', amount: '5000', completedAt: null }));
    const res = await stores.payouts.apply(
      payout({
        id: 'po_1',
        status: 'SUCCESS',
        rawStatus: 'SUCCESS',
        source: 'get',
        amount: '5000.00',
        gatewayFee: '50.00',
        recipientMsisdn: '+237670000001',
        completedAt: '2026-01-15T12:00:05Z',
      }),
    );
    expect(res).toEqual({
      outcome: 'unchanged',
      current: {
        id: 'po_1',
        status: 'SUCCESS',
        rawStatus: 'completed',
        source: 'webhook',
        amount: '5000',
        gatewayFee: '50.00',
        recipientMsisdn: '+237670000001',
        completedAt: '2026-01-15T12:00:05Z',
      },
    });
    await expect(stores.payouts.get('po_1')).resolves.toEqual(res.current);
  });

  it("takes a read's failure, code and message, over one known only by its reason, under the same final", async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'po_1', status: 'FAILED', failure: { message: 'declined' } }));
    const res = await stores.payouts.apply(payout({ id: 'po_1', status: 'FAILED', source: 'get', failure: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' } }));
    expect(res.outcome).toBe('unchanged');
    expect(res.current.failure).toEqual({ code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' });
    await expect(stores.payouts.get('po_1')).resolves.toEqual(res.current);
    // A failure with a code is kept.
    const again = await stores.payouts.apply(payout({ id: 'po_1', status: 'FAILED', source: 'get', failure: { code: 'OTHER', message: 'other' } }));
    expect(again.current.failure).toEqual({ code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' });
  });

  it('answers unchanged for an identical snapshot', async () => {
    const { stores } = h();
    const p = payout({ id: 'po_1', status: 'PROCESSING', failure: null });
    await stores.payouts.apply(p);
    await expect(stores.payouts.apply(p)).resolves.toEqual({ outcome: 'unchanged', current: p });
  });

  it('does not let a null erase a known value when advancing', async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'po_1', status: 'PENDING', failure: { code: 'X', message: 'x' } }));
    const res = await stores.payouts.apply(payout({ id: 'po_1', status: 'FAILED', failure: null }));
    expect(res.outcome).toBe('advanced');
    expect(res.current.failure).toEqual({ code: 'X', message: 'x' });
  });

  it('reads many payouts in the order asked, undefined for unknown ids', async () => {
    const { stores } = h();
    await stores.payouts.apply(payout({ id: 'a', status: 'PENDING' }));
    await stores.payouts.apply(payout({ id: 'c', status: 'SUCCESS' }));
    const many = await stores.payouts.getMany(['c', 'b', 'a']);
    expect(many.map((p) => p?.status)).toEqual(['SUCCESS', undefined, 'PENDING']);
    await expect(stores.payouts.getMany([])).resolves.toEqual([]);
  });

  it('rejects an invalid payout without writing anything', async () => {
    const { stores } = h();
    const bad = { ...payout({ id: 'po_1', status: 'PENDING' }), status: 'VERIFYING' } as unknown as Parameters<
      typeof stores.payouts.apply
    >[0];
    await expect(stores.payouts.apply(bad)).rejects.toThrow(TypeError);
    await expect(stores.payouts.get('po_1')).resolves.toBeUndefined();
  });
});

describe('payout status store TTL (redis)', () => {
  const h = useStores('redis');

  it('puts a TTL on every status key', async () => {
    const { stores, server, prefix } = h();
    await stores.payouts.apply(payout({ id: 'po_ttl', status: 'PENDING' }));
    const client = server?.client();
    const ttl = await client?.ttl(`${prefix}payout:{po_ttl}:status`);
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
    expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600);
  });
});

describe('Lua apply matches the TypeScript rules (property)', () => {
  const h = useStores('redis');

  it('gives the same outcome and stored payout as the in-memory store for any sequence of snapshots', async () => {
    const { stores, clock } = h();
    const memory = createMemoryStores({ clock });
    const opt = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const snapshot = fc.record({
      status: fc.constantFrom(...PAYOUT_STATUSES),
      rawStatus: fc.constantFrom('a', 'b'),
      source: fc.constantFrom('execute', 'get', 'list', 'webhook'),
      amount: opt(fc.constantFrom('5000', '5000.00')),
      gatewayReference: opt(fc.constantFrom('GW1', 'GW2')),
      completedAt: opt(fc.constantFrom(null, '2026-01-15T12:00:05Z', '2026-01-15T12:00:09Z')),
      failure: opt(fc.constantFrom(null, { message: 'declined' }, { code: 'X', message: 'x' }, { code: 'Y', message: 'declined' })),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(snapshot, { minLength: 1, maxLength: 6 }), async (snaps) => {
        const id = `prop_${++run}`;
        for (const s of snaps) {
          const p = Object.fromEntries(Object.entries({ id, ...s }).filter(([, v]) => v !== undefined)) as unknown as Payout;
          const [viaRedis, viaMemory] = [await stores.payouts.apply(p), await memory.payouts.apply(p)];
          expect(viaRedis).toEqual(viaMemory);
        }
      }),
      { numRuns: 60 },
    );
  });
});
