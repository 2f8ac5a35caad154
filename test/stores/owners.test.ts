import { describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS, useStores } from './harness.js';

describe.each(IMPLEMENTATIONS)('owner store (%s)', (kind) => {
  const h = useStores(kind);

  it('keeps the first owner: a second writer never overwrites it', async () => {
    const { stores } = h();
    await expect(stores.owners.setOwner('po_1', 'alice')).resolves.toBe('alice');
    await expect(stores.owners.setOwner('po_1', 'mallory')).resolves.toBe('alice');
    await expect(stores.owners.getOwner('po_1')).resolves.toBe('alice');
  });

  it('lets exactly one of many concurrent writers win', async () => {
    const { stores, otherInstance } = h();
    const other = await otherInstance();
    const winners = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? other : stores).owners.setOwner('po_race', `sub-${i}`)),
    );
    expect(new Set(winners).size).toBe(1);
    await expect(stores.owners.getOwner('po_race')).resolves.toBe(winners[0]);
  });

  it('reads many owners in order, undefined for unknown payouts', async () => {
    const { stores } = h();
    await stores.owners.setOwner('a', 'alice');
    await stores.owners.setOwner('c', 'carol');
    await expect(stores.owners.getOwners(['c', 'b', 'a'])).resolves.toEqual(['carol', undefined, 'alice']);
    await expect(stores.owners.getOwner('zzz')).resolves.toBeUndefined();
  });

  it('lists what a caller owns, newest first, paged, never another caller’s payouts', async () => {
    const { stores, clock } = h();
    for (const id of ['p1', 'p2', 'p3']) {
      await stores.owners.setOwner(id, 'alice');
      clock.advance(1_000);
    }
    await stores.owners.setOwner('p4', 'bob');
    await stores.owners.setOwner('p1', 'bob');
    await expect(stores.owners.listOwned('alice', { offset: 0, limit: 2 })).resolves.toEqual({ ids: ['p3', 'p2'], total: 3 });
    await expect(stores.owners.listOwned('alice', { offset: 2, limit: 2 })).resolves.toEqual({ ids: ['p1'], total: 3 });
    await expect(stores.owners.listOwned('bob', { offset: 0, limit: 10 })).resolves.toEqual({ ids: ['p4'], total: 1 });
    await expect(stores.owners.listOwned('nobody', { offset: 0, limit: 10 })).resolves.toEqual({ ids: [], total: 0 });
  });

  it('drops index entries older than the owner TTL from listings', async () => {
    const { stores, clock } = h();
    await stores.owners.setOwner('old', 'alice');
    clock.advance(91 * 24 * 3600 * 1000);
    await stores.owners.setOwner('new', 'alice');
    await expect(stores.owners.listOwned('alice', { offset: 0, limit: 10 })).resolves.toEqual({ ids: ['new'], total: 1 });
  });
});

describe.each(IMPLEMENTATIONS)('quote store (%s)', (kind) => {
  const h = useStores(kind);

  it('returns the stored quote record and undefined for an unknown id', async () => {
    const { stores } = h();
    const record = { quoteId: 'q1', owner: 'alice', recipientMsisdn: '+237670000001', expiresAt: '2026-01-15T12:15:00Z' };
    await stores.quotes.put(record, 900);
    await expect(stores.quotes.get('q1')).resolves.toEqual(record);
    await expect(stores.quotes.get('q2')).resolves.toBeUndefined();
  });
});
