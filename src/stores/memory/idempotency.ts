import type {
  Clock,
  IdempotencyBeginInput,
  IdempotencyBeginResult,
  IdempotencyLockInput,
  IdempotencyRecord,
  IdempotencyStore,
} from '../types.js';
import { validateBegin, validateComplete, validateLock } from '../idempotency-args.js';
import { assertKeyPart } from '../validate.js';
import { TtlMap } from './ttl-map.js';

/** In-memory idempotency records; the twin of redis/scripts.ts's IDEMPOTENCY_* scripts. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records: TtlMap<string, IdempotencyRecord>;

  constructor(private readonly clock: Clock) {
    this.records = new TtlMap(clock);
  }

  async begin(input: IdempotencyBeginInput): Promise<IdempotencyBeginResult> {
    validateBegin(input);
    const now = this.clock.now();
    const rec = this.records.get(input.scope);
    const ttlMs = input.recordTtlSeconds * 1000;
    const lockExpiresAt = now + input.lockTtlMs;
    if (rec === undefined) {
      const fresh: IdempotencyRecord = {
        fingerprint: input.fingerprint,
        state: 'locked',
        lockOwner: input.lockOwner,
        lockExpiresAt,
        uncertain: false,
        ...(input.upstreamKey === undefined ? {} : { upstreamKey: input.upstreamKey }),
      };
      this.records.set(input.scope, fresh, ttlMs);
      return acquired(false, input.upstreamKey);
    }
    if (rec.fingerprint !== input.fingerprint) return { kind: 'mismatch' };
    if (rec.state === 'completed') return { kind: 'completed', result: rec.result ?? '' };
    if (rec.state === 'locked' && (rec.lockExpiresAt ?? 0) > now) {
      return { kind: 'in_progress', retryAfterMs: Math.max(1, (rec.lockExpiresAt ?? now) - now) };
    }
    const upstreamKey = rec.upstreamKey ?? input.upstreamKey;
    const taken: IdempotencyRecord = {
      fingerprint: rec.fingerprint,
      state: 'locked',
      lockOwner: input.lockOwner,
      lockExpiresAt,
      uncertain: true,
      ...(upstreamKey === undefined ? {} : { upstreamKey }),
    };
    this.records.set(input.scope, taken, ttlMs);
    return acquired(true, upstreamKey);
  }

  async complete(input: IdempotencyLockInput & { result: string; recordTtlSeconds: number }): Promise<boolean> {
    validateComplete(input);
    const rec = this.owned(input);
    if (rec === undefined) return false;
    const done: IdempotencyRecord = {
      fingerprint: rec.fingerprint,
      state: 'completed',
      result: input.result,
      uncertain: rec.uncertain,
      ...(rec.upstreamKey === undefined ? {} : { upstreamKey: rec.upstreamKey }),
    };
    this.records.set(input.scope, done, input.recordTtlSeconds * 1000);
    return true;
  }

  async markUnknown(input: IdempotencyLockInput): Promise<boolean> {
    validateLock(input);
    const rec = this.owned(input);
    if (rec === undefined) return false;
    this.records.replace(input.scope, unknown(rec));
    return true;
  }

  async release(input: IdempotencyLockInput): Promise<boolean> {
    validateLock(input);
    const rec = this.owned(input);
    if (rec === undefined) return false;
    if (rec.uncertain) this.records.replace(input.scope, unknown(rec));
    else this.records.delete(input.scope);
    return true;
  }

  async get(scope: string): Promise<IdempotencyRecord | undefined> {
    assertKeyPart('scope', scope);
    const rec = this.records.get(scope);
    return rec === undefined ? undefined : { ...rec };
  }

  private owned({ scope, lockOwner }: IdempotencyLockInput): IdempotencyRecord | undefined {
    const rec = this.records.get(scope);
    return rec?.state === 'locked' && rec.lockOwner === lockOwner ? rec : undefined;
  }
}

function acquired(resumed: boolean, upstreamKey: string | undefined): IdempotencyBeginResult {
  return upstreamKey === undefined ? { kind: 'acquired', resumed } : { kind: 'acquired', resumed, upstreamKey };
}

function unknown(rec: IdempotencyRecord): IdempotencyRecord {
  return {
    fingerprint: rec.fingerprint,
    state: 'unknown',
    uncertain: true,
    ...(rec.upstreamKey === undefined ? {} : { upstreamKey: rec.upstreamKey }),
  };
}
