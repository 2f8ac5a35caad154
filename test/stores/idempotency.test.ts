import { describe, expect, it } from 'vitest';
import type { IdempotencyBeginInput } from '../../src/stores/types.js';
import { IMPLEMENTATIONS, useStores } from './harness.js';

const DAY = 24 * 3600;

function beginInput(overrides: Partial<IdempotencyBeginInput> = {}): IdempotencyBeginInput {
  return {
    scope: 'alice:key-1',
    fingerprint: 'fp-1',
    lockOwner: 'instance-a:1',
    lockTtlMs: 30_000,
    recordTtlSeconds: DAY,
    upstreamKey: 'up-1',
    ...overrides,
  };
}

describe.each(IMPLEMENTATIONS)('idempotency store (%s)', (kind) => {
  const h = useStores(kind);

  it('lets exactly one of 100 concurrent begins acquire a scope; the others see it in progress (T1)', async () => {
    const { stores, otherInstance } = h();
    const other = await otherInstance();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? other : stores).idempotency.begin(beginInput({ lockOwner: `owner-${i}` })),
      ),
    );
    expect(results.filter((r) => r.kind === 'acquired')).toEqual([{ kind: 'acquired', resumed: false, upstreamKey: 'up-1' }]);
    const others = results.filter((r) => r.kind !== 'acquired');
    expect(others).toHaveLength(99);
    for (const r of others) expect(r).toEqual({ kind: 'in_progress', retryAfterMs: 30_000 });
  });

  it('refuses the same scope with another fingerprint and leaves the record untouched (T2)', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput());
    const before = await stores.idempotency.get('alice:key-1');
    await expect(stores.idempotency.begin(beginInput({ fingerprint: 'fp-2', lockOwner: 'x' }))).resolves.toEqual({ kind: 'mismatch' });
    await expect(stores.idempotency.get('alice:key-1')).resolves.toEqual(before);
  });

  it('replays the stored result verbatim after completion (T4)', async () => {
    const { stores, clock } = h();
    await stores.idempotency.begin(beginInput());
    const result = '{"kind":"payout","id":"po_1","note":"é ✓"}';
    await expect(stores.idempotency.complete({ scope: 'alice:key-1', lockOwner: 'instance-a:1', result, recordTtlSeconds: DAY })).resolves.toBe(true);
    clock.advance(60_000);
    await expect(stores.idempotency.begin(beginInput({ lockOwner: 'later' }))).resolves.toEqual({ kind: 'completed', result });
    await expect(stores.idempotency.begin(beginInput({ lockOwner: 'later', fingerprint: 'other' }))).resolves.toEqual({ kind: 'mismatch' });
  });

  it('keeps scopes independent (T3)', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput({ scope: 'alice:k' }));
    await expect(stores.idempotency.begin(beginInput({ scope: 'bob:k', lockOwner: 'b' }))).resolves.toMatchObject({
      kind: 'acquired',
      resumed: false,
    });
  });

  it('lets only the lock owner complete, mark unknown or release', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput());
    const intruder = { scope: 'alice:key-1', lockOwner: 'intruder' };
    await expect(stores.idempotency.complete({ ...intruder, result: 'x', recordTtlSeconds: DAY })).resolves.toBe(false);
    await expect(stores.idempotency.markUnknown(intruder)).resolves.toBe(false);
    await expect(stores.idempotency.release(intruder)).resolves.toBe(false);
    await expect(stores.idempotency.get('alice:key-1')).resolves.toMatchObject({ state: 'locked', lockOwner: 'instance-a:1' });
    await expect(stores.idempotency.complete({ scope: 'nope', lockOwner: 'x', result: 'x', recordTtlSeconds: DAY })).resolves.toBe(false);
  });

  it('hands an expired lock to the next attempt as resumed, with the same upstream key (T11)', async () => {
    const { stores, clock } = h();
    await stores.idempotency.begin(beginInput({ lockTtlMs: 5_000 }));
    clock.advance(4_000);
    await expect(stores.idempotency.begin(beginInput({ lockOwner: 'b' }))).resolves.toEqual({ kind: 'in_progress', retryAfterMs: 1_000 });
    clock.advance(1_000);
    await expect(stores.idempotency.begin(beginInput({ lockOwner: 'b', upstreamKey: 'ignored' }))).resolves.toEqual({
      kind: 'acquired',
      resumed: true,
      upstreamKey: 'up-1',
    });
    // The crashed attempt can no longer complete; the new owner can.
    await expect(stores.idempotency.complete({ scope: 'alice:key-1', lockOwner: 'instance-a:1', result: 'x', recordTtlSeconds: DAY })).resolves.toBe(false);
    await expect(stores.idempotency.complete({ scope: 'alice:key-1', lockOwner: 'b', result: 'ok', recordTtlSeconds: DAY })).resolves.toBe(true);
  });

  it('resumes an unknown outcome with the same scope and upstream key (T6)', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput());
    await expect(stores.idempotency.markUnknown({ scope: 'alice:key-1', lockOwner: 'instance-a:1' })).resolves.toBe(true);
    await expect(stores.idempotency.get('alice:key-1')).resolves.toEqual({
      fingerprint: 'fp-1',
      state: 'unknown',
      upstreamKey: 'up-1',
      uncertain: true,
    });
    await expect(stores.idempotency.begin(beginInput({ fingerprint: 'fp-2', lockOwner: 'b' }))).resolves.toEqual({ kind: 'mismatch' });
    await expect(stores.idempotency.begin(beginInput({ lockOwner: 'b' }))).resolves.toEqual({
      kind: 'acquired',
      resumed: true,
      upstreamKey: 'up-1',
    });
  });

  it('forgets a released record so a retry proceeds as new (T7)', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput());
    await expect(stores.idempotency.release({ scope: 'alice:key-1', lockOwner: 'instance-a:1' })).resolves.toBe(true);
    await expect(stores.idempotency.get('alice:key-1')).resolves.toBeUndefined();
    await expect(stores.idempotency.begin(beginInput({ fingerprint: 'fp-2', lockOwner: 'b', upstreamKey: 'up-2' }))).resolves.toEqual({
      kind: 'acquired',
      resumed: false,
      upstreamKey: 'up-2',
    });
  });

  it('does not forget an uncertain record on release: it goes back to unknown', async () => {
    const { stores } = h();
    await stores.idempotency.begin(beginInput());
    await stores.idempotency.markUnknown({ scope: 'alice:key-1', lockOwner: 'instance-a:1' });
    await stores.idempotency.begin(beginInput({ lockOwner: 'b' }));
    await expect(stores.idempotency.release({ scope: 'alice:key-1', lockOwner: 'b' })).resolves.toBe(true);
    await expect(stores.idempotency.get('alice:key-1')).resolves.toMatchObject({ state: 'unknown', fingerprint: 'fp-1' });
    await expect(stores.idempotency.begin(beginInput({ fingerprint: 'fp-2', lockOwner: 'c' }))).resolves.toEqual({ kind: 'mismatch' });
  });

  it('works without an upstream key', async () => {
    const { stores } = h();
    await expect(stores.idempotency.begin(beginInput({ upstreamKey: undefined }))).resolves.toEqual({ kind: 'acquired', resumed: false });
  });
});

describe('idempotency record TTL (redis)', () => {
  const h = useStores('redis');

  it('keeps records at least as long as asked', async () => {
    const { stores, server, prefix } = h();
    await stores.idempotency.begin(beginInput({ scope: 'ttl:1' }));
    await stores.idempotency.complete({ scope: 'ttl:1', lockOwner: 'instance-a:1', result: 'r', recordTtlSeconds: 2 * DAY });
    const ttl = await server?.client().ttl(`${prefix}idem:ttl:1`);
    expect(ttl).toBeGreaterThan(2 * DAY - 10);
  });
});
