import { describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS, useStores } from './harness.js';

describe.each(IMPLEMENTATIONS)('lease store (%s)', (kind) => {
  const h = useStores(kind);

  it('one holder at a time, across instances; only its token gives the lease back', async () => {
    const { stores, otherInstance } = h();
    const other = await otherInstance();
    const token = await stores.leases.acquire('reconcile:po1', 60_000);
    expect(token).toEqual(expect.any(String));
    await expect(other.leases.acquire('reconcile:po1', 60_000)).resolves.toBeUndefined();
    await other.leases.release('reconcile:po1', 'not-the-token');
    await expect(other.leases.acquire('reconcile:po1', 60_000)).resolves.toBeUndefined();
    await stores.leases.release('reconcile:po1', token as string);
    await expect(other.leases.acquire('reconcile:po1', 60_000)).resolves.toEqual(expect.any(String));
  });

  it('a lease that expired is free again, and a late release by its old holder frees nothing', async () => {
    const { stores, otherInstance, clock } = h();
    const other = await otherInstance();
    const old = (await stores.leases.acquire('reconcile:po2', 50)) as string;
    // Redis expires on its own clock: wait it out there; the memory store follows the injected clock.
    if (kind === 'redis') await new Promise((r) => setTimeout(r, 80));
    else clock.advance(60);
    const next = await other.leases.acquire('reconcile:po2', 60_000);
    expect(next).toEqual(expect.any(String));
    await stores.leases.release('reconcile:po2', old);
    await expect(stores.leases.acquire('reconcile:po2', 60_000)).resolves.toBeUndefined();
  });

  it('refuses a key it cannot store and a non-positive ttl', async () => {
    const { stores } = h();
    await expect(stores.leases.acquire('', 1_000)).rejects.toThrow();
    await expect(stores.leases.acquire('reconcile:po3', 0)).rejects.toThrow();
  });
});
