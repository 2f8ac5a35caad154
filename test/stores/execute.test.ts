import { describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS, payout, useStores } from './harness.js';
import type { ExecuteBeginInput, IdempotencyBeginInput } from '../../src/stores/types.js';

const QUOTE = { quoteId: 'q1', owner: 'alice', recipientMsisdn: '+237670000001', expiresAt: '2026-01-15T12:15:00Z' };

function claim(overrides: Partial<IdempotencyBeginInput> = {}): IdempotencyBeginInput {
  return { scope: 's1', fingerprint: 'fp1', lockOwner: 'i1:a', lockTtlMs: 30_000, recordTtlSeconds: 86_400, ...overrides };
}

function begin(overrides: Partial<ExecuteBeginInput> = {}): ExecuteBeginInput {
  return { rateLimit: { key: 'mutations:alice', limit: 100, windowMs: 60_000 }, quoteId: 'q1', idempotency: claim(), ...overrides };
}

describe.each(IMPLEMENTATIONS)('execute store (%s)', (kind) => {
  const h = useStores(kind);

  it('charges the rate limit, reads the quote and claims the key in one step', async () => {
    const { stores } = h();
    await stores.quotes.put(QUOTE, 3_600);
    const rateLimit = { key: 'mutations:carol', limit: 2, windowMs: 60_000 };
    await expect(stores.execute.begin(begin({ rateLimit }))).resolves.toEqual({ kind: 'begun', quote: QUOTE, begun: { kind: 'acquired', resumed: false } });
    // The same key again: in progress, and the rate limit was charged a second time.
    const again = await stores.execute.begin(begin({ rateLimit, idempotency: claim({ lockOwner: 'i1:b' }) }));
    expect(again).toMatchObject({ kind: 'begun', begun: { kind: 'in_progress' } });
    const rec = await stores.idempotency.get('s1');
    expect(rec).toMatchObject({ state: 'locked', lockOwner: 'i1:a', fingerprint: 'fp1' });
    await expect(stores.rateLimiter.take(rateLimit)).resolves.toMatchObject({ allowed: false });
  });

  it('refuses over the rate limit and then claims nothing', async () => {
    const { stores } = h();
    const limit = { key: 'mutations:bob', limit: 1, windowMs: 60_000 };
    await stores.rateLimiter.take(limit);
    const refused = await stores.execute.begin(begin({ rateLimit: limit, idempotency: claim({ scope: 'bob-key' }) }));
    expect(refused.kind).toBe('rate_limited');
    expect(refused.kind === 'rate_limited' && refused.retryAfterMs).toBeGreaterThan(0);
    await expect(stores.idempotency.get('bob-key')).resolves.toBeUndefined();
  });

  it('without a quote check, returns no quote for an unknown id and still claims the key', async () => {
    const { stores } = h();
    const result = await stores.execute.begin(begin({ quoteId: 'nope' }));
    expect(result).toEqual({ kind: 'begun', quote: undefined, begun: { kind: 'acquired', resumed: false } });
  });

  describe('with a quote check (T16: a quote that cannot be executed claims nothing)', () => {
    const NOW = Date.parse('2026-01-15T12:00:00Z');
    const check = (overrides: Partial<NonNullable<ExecuteBeginInput['quoteCheck']>> = {}) => ({ owner: 'alice', recipientMsisdn: '+237670000001', nowMs: NOW, ...overrides });

    it.each([
      ['an unknown quote', { quoteId: 'nope' }, {}],
      ["another caller's quote", {}, { owner: 'mallory' }],
      ['another recipient', {}, { recipientMsisdn: '+237670000002' }],
      ['an expired quote', {}, { nowMs: Date.parse(QUOTE.expiresAt) }],
    ] as const)('%s: quote_refused, no record, the rate limit charged', async (_name, input, checkOverrides) => {
      const { stores } = h();
      await stores.quotes.put(QUOTE, 3_600);
      const rateLimit = { key: 'mutations:dave', limit: 1, windowMs: 60_000 };
      const result = await stores.execute.begin(begin({ ...input, rateLimit, quoteCheck: check(checkOverrides) }));
      expect(result).toEqual({ kind: 'quote_refused', quote: 'quoteId' in input ? undefined : QUOTE });
      await expect(stores.idempotency.get('s1')).resolves.toBeUndefined();
      await expect(stores.rateLimiter.take(rateLimit)).resolves.toMatchObject({ allowed: false });
    });

    it('refused whatever the quote says (bad input): quote_refused before the rate limit is charged, no record', async () => {
      const { stores } = h();
      await stores.quotes.put(QUOTE, 3_600);
      const rateLimit = { key: 'mutations:erin', limit: 1, windowMs: 60_000 };
      const result = await stores.execute.begin(begin({ rateLimit, quoteCheck: check({ refuse: true }) }));
      expect(result).toEqual({ kind: 'quote_refused', quote: undefined });
      await expect(stores.idempotency.get('s1')).resolves.toBeUndefined();
      // The one slot of the budget is still there.
      await expect(stores.rateLimiter.take(rateLimit)).resolves.toMatchObject({ allowed: true });
    });

    it('refused whatever the quote says, but the key has a record: it replays, and the rate limit is charged', async () => {
      const { stores } = h();
      await stores.execute.begin(begin());
      await stores.idempotency.complete({ scope: 's1', lockOwner: 'i1:a', result: '{"x":1}', recordTtlSeconds: 60 });
      const rateLimit = { key: 'mutations:frank', limit: 1, windowMs: 60_000 };
      const replay = await stores.execute.begin(begin({ rateLimit, idempotency: claim({ lockOwner: 'i1:b' }), quoteCheck: check({ refuse: true }) }));
      expect(replay).toMatchObject({ kind: 'begun', begun: { kind: 'completed', result: '{"x":1}' } });
      await expect(stores.rateLimiter.take(rateLimit)).resolves.toMatchObject({ allowed: false });
    });

    it('a quote that can be executed: the key is claimed as without the check', async () => {
      const { stores } = h();
      await stores.quotes.put(QUOTE, 3_600);
      await expect(stores.execute.begin(begin({ quoteCheck: check() }))).resolves.toEqual({ kind: 'begun', quote: QUOTE, begun: { kind: 'acquired', resumed: false } });
    });

    it('a key with a record is not checked: a resumable one resumes (its first attempt may have paid), a completed one replays', async () => {
      const { stores } = h();
      await stores.execute.begin(begin());
      await stores.idempotency.markUnknown({ scope: 's1', lockOwner: 'i1:a' });
      // The quote record is gone since (or expired): only ZoPay knows whether the first attempt paid.
      const resumed = await stores.execute.begin(begin({ quoteId: 'gone', idempotency: claim({ lockOwner: 'i1:b' }), quoteCheck: check() }));
      expect(resumed).toEqual({ kind: 'begun', quote: undefined, begun: { kind: 'acquired', resumed: true } });
      await stores.idempotency.complete({ scope: 's1', lockOwner: 'i1:b', result: '{"x":1}', recordTtlSeconds: 60 });
      await expect(stores.execute.begin(begin({ quoteId: 'gone', idempotency: claim({ lockOwner: 'i1:c' }), quoteCheck: check() }))).resolves.toMatchObject({
        kind: 'begun',
        begun: { kind: 'completed', result: '{"x":1}' },
      });
    });
  });

  it('replays a completed key and reports a reused one', async () => {
    const { stores } = h();
    await stores.execute.begin(begin());
    await stores.idempotency.complete({ scope: 's1', lockOwner: 'i1:a', result: '{"x":1}', recordTtlSeconds: 60 });
    await expect(stores.execute.begin(begin({ idempotency: claim({ lockOwner: 'i1:c' }) }))).resolves.toMatchObject({
      begun: { kind: 'completed', result: '{"x":1}' },
    });
    await expect(stores.execute.begin(begin({ idempotency: claim({ fingerprint: 'other', lockOwner: 'i1:d' }) }))).resolves.toMatchObject({
      begun: { kind: 'mismatch' },
    });
  });

  it('records status, owner and outcome of an accepted payout together', async () => {
    const { stores } = h();
    await stores.execute.begin(begin());
    const accepted = payout({ id: 'po_1', status: 'PROCESSING', source: 'execute' });
    const finished = await stores.execute.finish({ payout: accepted, owner: 'alice', lock: { scope: 's1', lockOwner: 'i1:a' }, result: '{"v":1}', recordTtlSeconds: 60 });
    expect(finished).toEqual({ applied: { outcome: 'created', current: accepted }, owner: 'alice', completed: true });
    await expect(stores.payouts.get('po_1')).resolves.toEqual(accepted);
    await expect(stores.owners.getOwner('po_1')).resolves.toBe('alice');
    await expect(stores.owners.listOwned('alice', { offset: 0, limit: 10 })).resolves.toEqual({ ids: ['po_1'], total: 1 });
    await expect(stores.idempotency.get('s1')).resolves.toMatchObject({ state: 'completed', result: '{"v":1}' });
  });

  it('keeps the first owner and a newer status, and stores no outcome without the lock', async () => {
    const { stores } = h();
    await stores.execute.begin(begin());
    await stores.owners.setOwner('po_2', 'mallory');
    await stores.payouts.apply(payout({ id: 'po_2', status: 'SUCCESS' }));
    const finished = await stores.execute.finish({
      payout: payout({ id: 'po_2', status: 'PROCESSING', source: 'execute' }),
      owner: 'alice',
      lock: { scope: 's1', lockOwner: 'not-the-holder' },
      result: '{"v":1}',
      recordTtlSeconds: 60,
    });
    expect(finished.owner).toBe('mallory');
    expect(finished.completed).toBe(false);
    expect(finished.applied).toMatchObject({ outcome: 'stale', current: { status: 'SUCCESS' } });
    await expect(stores.idempotency.get('s1')).resolves.toMatchObject({ state: 'locked' });
    await expect(stores.owners.listOwned('alice', { offset: 0, limit: 10 })).resolves.toEqual({ ids: [], total: 0 });
  });

  it('rejects a malformed payout before writing anything', async () => {
    const { stores } = h();
    await stores.execute.begin(begin());
    const bad = { ...payout({ id: 'po_3', status: 'PROCESSING' }), status: 'PAID' } as unknown as ReturnType<typeof payout>;
    await expect(stores.execute.finish({ payout: bad, owner: 'alice', lock: { scope: 's1', lockOwner: 'i1:a' }, result: '{}', recordTtlSeconds: 60 })).rejects.toThrow(
      TypeError,
    );
    await expect(stores.owners.getOwner('po_3')).resolves.toBeUndefined();
    await expect(stores.idempotency.get('s1')).resolves.toMatchObject({ state: 'locked' });
  });
});

describe('execute store (redis): one round trip per step', () => {
  const h = useStores('redis');

  it('runs begin and finish as one script call each', async () => {
    const { stores, server } = h();
    if (!server) throw new Error('redis only');
    const { Redis } = await import('ioredis');
    const probe = new Redis(server.url, { lazyConnect: true });
    await probe.connect();
    try {
      const scriptCalls = async (): Promise<{ evalsha: number; eval: number; get: number }> => {
        const info = await probe.info('commandstats');
        const count = (name: string) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
        return { evalsha: count('evalsha'), eval: count('eval'), get: count('get') };
      };
      const finish = (scope: string, id: string) =>
        stores.execute.finish({ payout: payout({ id, status: 'PENDING', source: 'execute' }), owner: 'alice', lock: { scope, lockOwner: 'i1:a' }, result: '{}', recordTtlSeconds: 60 });
      // Load both scripts first (their first call falls back from EVALSHA to EVAL).
      await stores.execute.begin(begin({ idempotency: claim({ scope: 'warm' }) }));
      await finish('warm', 'po_warm');
      await stores.quotes.put(QUOTE, 3_600);
      const before = await scriptCalls();
      await stores.execute.begin(begin());
      await finish('s1', 'po_9');
      const after = await scriptCalls();
      expect(after.evalsha - before.evalsha).toBe(2);
      expect(after.eval - before.eval).toBe(0);
      // The quote read and the owner check ran inside the scripts.
      expect(after.get - before.get).toBeGreaterThanOrEqual(2);
      await expect(stores.idempotency.get('s1')).resolves.toMatchObject({ state: 'completed' });
      await expect(stores.owners.getOwner('po_9')).resolves.toBe('alice');
    } finally {
      probe.disconnect();
    }
  });
});
