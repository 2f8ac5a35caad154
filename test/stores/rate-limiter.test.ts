import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../../src/stores/errors.js';
import { createUpstreamBudget } from '../../src/stores/upstream-budget.js';
import { IMPLEMENTATIONS, useStores, type StoreHarness } from './harness.js';

describe.each(IMPLEMENTATIONS)('rate limiter (%s)', (kind) => {
  const h = useStores(kind);

  it('allows a burst of `limit`, then refuses with the time until the next slot', async () => {
    const { stores, clock } = h();
    const take = () => stores.rateLimiter.take({ key: 'caller:alice', limit: 5, windowMs: 60_000 });
    const remaining = [];
    for (let i = 0; i < 5; i++) remaining.push(await take());
    expect(remaining).toEqual([4, 3, 2, 1, 0].map((r) => ({ allowed: true, remaining: r })));
    await expect(take()).resolves.toEqual({ allowed: false, retryAfterMs: 12_000 });
    clock.advance(11_999);
    await expect(take()).resolves.toEqual({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    await expect(take()).resolves.toEqual({ allowed: true, remaining: 0 });
  });

  it('honours the limit across two instances sharing the store', async () => {
    const { stores, otherInstance } = h();
    const other = await otherInstance();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? other : stores).rateLimiter.take({ key: 'shared', limit: 10, windowMs: 60_000 })),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    for (const r of results) if (!r.allowed) expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it('counts a cost and keeps keys independent', async () => {
    const { stores } = h();
    await expect(stores.rateLimiter.take({ key: 'k1', limit: 5, windowMs: 1_000, cost: 3 })).resolves.toEqual({ allowed: true, remaining: 2 });
    await expect(stores.rateLimiter.take({ key: 'k1', limit: 5, windowMs: 1_000, cost: 3 })).resolves.toEqual({ allowed: false, retryAfterMs: 200 });
    await expect(stores.rateLimiter.take({ key: 'k2', limit: 5, windowMs: 1_000, cost: 5 })).resolves.toEqual({ allowed: true, remaining: 0 });
  });

  it('fits exactly `limit` requests when the window does not divide evenly', async () => {
    const { stores } = h();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await stores.rateLimiter.take({ key: 'thirds', limit: 3, windowMs: 1_000 }));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]).toEqual({ allowed: false, retryAfterMs: 334 });
  });

  it('keeps `keepFree` slots for others: such a request stops while they are all that is left, and is charged its cost alone', async () => {
    const { stores, clock } = h();
    const low = () => stores.rateLimiter.take({ key: 'reserve', limit: 10, windowMs: 60_000, keepFree: 3 });
    const high = () => stores.rateLimiter.take({ key: 'reserve', limit: 10, windowMs: 60_000 });
    const lows = [];
    for (let i = 0; i < 8; i++) lows.push(await low());
    expect(lows.map((r) => r.allowed)).toEqual([true, true, true, true, true, true, true, false]);
    // The 8th would leave only 2 free: it may go when one more slot has refilled (6 s at 10 a minute).
    expect(lows[7]).toEqual({ allowed: false, retryAfterMs: 6_000 });
    // The kept slots are there for the others.
    const highs = [];
    for (let i = 0; i < 4; i++) highs.push(await high());
    expect(highs.map((r) => r.allowed)).toEqual([true, true, true, false]);
    clock.advance(6_000 * 4);
    await expect(low()).resolves.toEqual({ allowed: true, remaining: 3 });
  });

  it('rejects a cost above the limit as a programming error', async () => {
    const { stores } = h();
    await expect(stores.rateLimiter.take({ key: 'k', limit: 2, windowMs: 1_000, cost: 3 })).rejects.toThrow(TypeError);
    await expect(stores.rateLimiter.take({ key: 'k', limit: 2, windowMs: 1_000, keepFree: 2 })).rejects.toThrow(TypeError);
  });
});

describe.each(IMPLEMENTATIONS)('upstream budget (%s)', (kind) => {
  const h = useStores(kind);

  function budget({ stores, clock }: StoreHarness, maxQueueMs: number) {
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
    };
    return { sleeps, budget: createUpstreamBudget({ limiter: stores.rateLimiter, limitPerMinute: 2, maxQueueMs, sleep, clock }) };
  }

  it('queues a request briefly until a slot frees up', async () => {
    const harness = h();
    const { budget: b, sleeps } = budget(harness, 45_000);
    const deadline = harness.clock.now() + 60_000;
    await b.acquire(deadline);
    await b.acquire(deadline);
    expect(sleeps).toEqual([]);
    await b.acquire(deadline);
    expect(sleeps).toEqual([30_000]);
  });

  it('throws BudgetExhaustedError with retryAfterSeconds when no slot frees up within maxQueueMs', async () => {
    const harness = h();
    const { budget: b, sleeps } = budget(harness, 10_000);
    const deadline = harness.clock.now() + 60_000;
    await b.acquire(deadline);
    await b.acquire(deadline);
    const err = await b.acquire(deadline).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExhaustedError);
    expect(err).toMatchObject({ code: 'UPSTREAM_BUDGET_EXHAUSTED', retryAfterSeconds: 30 });
    expect(sleeps).toEqual([]);
  });

  it('leaves the last 30 % of the budget to payments: reads are refused there, quotes and executes still pass', async () => {
    const harness = h();
    const b = createUpstreamBudget({ limiter: harness.stores.rateLimiter, limitPerMinute: 10, maxQueueMs: 0, sleep: async () => undefined, clock: harness.clock });
    const deadline = harness.clock.now() + 60_000;
    for (let i = 0; i < 7; i++) await b.acquire(deadline, 'read');
    const refused = await b.acquire(deadline, 'read').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BudgetExhaustedError);
    for (let i = 0; i < 3; i++) await b.acquire(deadline, 'payment');
    await expect(b.acquire(deadline)).rejects.toBeInstanceOf(BudgetExhaustedError);
  });

  it('never waits past the caller’s deadline', async () => {
    const harness = h();
    const { budget: b, sleeps } = budget(harness, 60_000);
    await b.acquire(harness.clock.now() + 60_000);
    await b.acquire(harness.clock.now() + 60_000);
    await expect(b.acquire(harness.clock.now() + 5_000)).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(sleeps).toEqual([]);
  });
});
