/**
 * The reconciler reads a watched, unfinished payout once per interval across instances (design §6.6),
 * through a shared lease. An instance that wins the lease but cannot read gives it back, so another
 * instance reads that interval instead: a final status is never lost to one broken instance. Two hubs
 * on one in-memory bus and one lease store stand for two gateway instances on one Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../src/events/memory-bus.js';
import { createLogger } from '../../src/lib/logger.js';
import { PayoutHub, type HubDeps } from '../../src/realtime/hub.js';
import { MemoryLeaseStore } from '../../src/stores/memory/leases.js';
import type { Payout } from '../../src/zopay/types.js';
import { until } from '../helpers/subscribe.js';

const at = (status: Payout['status']): Payout => ({ id: 'po-rec', status, rawStatus: status, source: 'get' });
const hubs: PayoutHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

function instance(shared: { bus: MemoryEventBus; leases: MemoryLeaseStore }, deps: Pick<HubDeps, 'refresh' | 'known'>): PayoutHub {
  const hub = new PayoutHub({
    bus: shared.bus,
    log: createLogger({ level: 'silent' }),
    reconcileIntervalMs: 40,
    claimReconcile: async (id) => {
      const token = await shared.leases.acquire(`reconcile:${id}`, 36);
      return token === undefined ? undefined : { release: () => shared.leases.release(`reconcile:${id}`, token) };
    },
    ...deps,
  });
  hubs.push(hub);
  return hub;
}

describe('reconciling across instances', () => {
  it('an instance that wins the lease but cannot read gives it back: the other reads, and both subscribers get the final', async () => {
    const shared = { bus: new MemoryEventBus(), leases: new MemoryLeaseStore({ now: () => Date.now() }) };
    let brokenReads = 0;
    let goodReads = 0;
    // X ticks first every interval (started first) and its ZoPay reads always fail.
    const x = instance(shared, { refresh: () => (brokenReads++, Promise.reject(new Error('ZoPay unreachable from here'))), known: () => Promise.resolve(at('PROCESSING')) });
    await new Promise((r) => setTimeout(r, 5));
    const y = instance(shared, {
      refresh: () => (goodReads++, Promise.resolve({ payout: at('SUCCESS'), advanced: true })),
      known: () => Promise.resolve(at('PROCESSING')),
    });
    const seenX: string[] = [];
    const seenY: string[] = [];
    await x.watch('po-rec', (p) => seenX.push(p.status));
    await y.watch('po-rec', (p) => seenY.push(p.status));
    await until(() => seenX.includes('SUCCESS') && seenY.includes('SUCCESS'), 2_000, 'the final on both instances');
    expect(brokenReads).toBeGreaterThanOrEqual(1);
    expect(goodReads).toBeGreaterThanOrEqual(1);
  });

  it('an instance refused the lease delivers what the store knows (a final whose publish was lost), without a ZoPay read', async () => {
    const shared = { bus: new MemoryEventBus(), leases: new MemoryLeaseStore({ now: () => Date.now() }) };
    let readsByY = 0;
    // X holds the lease for every interval and reads PROCESSING; the store already holds SUCCESS.
    const x = instance(shared, { refresh: () => Promise.resolve({ payout: at('PROCESSING'), advanced: false }), known: () => Promise.resolve(at('SUCCESS')) });
    await shared.leases.acquire('reconcile:po-rec', 60_000); // nobody else gets it
    const y = instance(shared, { refresh: () => (readsByY++, Promise.resolve({ payout: at('PROCESSING'), advanced: false })), known: () => Promise.resolve(at('SUCCESS')) });
    const seenY: string[] = [];
    await y.watch('po-rec', (p) => seenY.push(p.status));
    expect(x).toBeDefined();
    await until(() => seenY.includes('SUCCESS'), 2_000, 'the stored final');
    expect(readsByY).toBe(0);
  });

  it.each([
    ['fails (5xx, the breaker open, the read budget spent)', () => Promise.reject(new Error('ZoPay unavailable'))],
    ['finds nothing', () => Promise.resolve(undefined)],
  ] as const)('an instance that wins the lease but whose ZoPay read %s delivers what the store knows', async (_name, refresh) => {
    const shared = { bus: new MemoryEventBus(), leases: new MemoryLeaseStore({ now: () => Date.now() }) };
    let reads = 0;
    // Alone: it wins the lease every interval. A webhook recorded the final on another instance, whose
    // publish never reached this one.
    const x = instance(shared, { refresh: () => (reads++, refresh()), known: () => Promise.resolve(at('SUCCESS')) });
    const seen: string[] = [];
    await x.watch('po-rec', (p) => seen.push(p.status));
    await until(() => seen.includes('SUCCESS'), 2_000, 'the stored final');
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(seen.filter((st) => st === 'SUCCESS')).toHaveLength(1);
  });
});
