import type { Redis } from 'ioredis';
import { validateBegin, validateComplete, validateLock } from '../idempotency-args.js';
import type {
  Clock,
  IdempotencyBeginInput,
  IdempotencyBeginResult,
  IdempotencyLockInput,
  IdempotencyRecord,
  IdempotencyStore,
} from '../types.js';
import { assertKeyPart } from '../validate.js';
import { replyArray, replyNumber, replyString, storeCall } from './call.js';
import type { RedisKeys } from './keys.js';
import { IDEMPOTENCY_BEGIN, IDEMPOTENCY_COMPLETE, IDEMPOTENCY_MARK_UNKNOWN, IDEMPOTENCY_RELEASE } from './scripts.js';
import type { LuaScript } from './lua.js';

/**
 * One hash per scope: fp, state (locked|unknown|completed), owner and until (while locked), ukey,
 * result, unc ('1' once the upstream may have seen it). Lock expiry compares `until` with the injected
 * clock, so every instance must use the same time: the gateway injects Redis's (lib/redis-clock.ts), so
 * an instance whose own clock is off neither shortens nor lengthens another's lock.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  async begin(input: IdempotencyBeginInput): Promise<IdempotencyBeginResult> {
    validateBegin(input);
    const args = [
      input.fingerprint,
      input.lockOwner,
      this.clock.now(),
      input.lockTtlMs,
      input.recordTtlSeconds,
      input.upstreamKey ?? '',
    ];
    const reply = await storeCall('idempotency begin', () =>
      IDEMPOTENCY_BEGIN.run(this.redis, [this.keys.idempotency(input.scope)], args),
    );
    return parseBeginReply(replyArray(reply, 'begin'));
  }

  async complete(input: IdempotencyLockInput & { result: string; recordTtlSeconds: number }): Promise<boolean> {
    validateComplete(input);
    return this.owned('idempotency complete', IDEMPOTENCY_COMPLETE, input, [input.result, input.recordTtlSeconds]);
  }

  async markUnknown(input: IdempotencyLockInput): Promise<boolean> {
    validateLock(input);
    return this.owned('idempotency markUnknown', IDEMPOTENCY_MARK_UNKNOWN, input, []);
  }

  async release(input: IdempotencyLockInput): Promise<boolean> {
    validateLock(input);
    return this.owned('idempotency release', IDEMPOTENCY_RELEASE, input, []);
  }

  async get(scope: string): Promise<IdempotencyRecord | undefined> {
    assertKeyPart('scope', scope);
    const h = await storeCall('idempotency get', () => this.redis.hgetall(this.keys.idempotency(scope)));
    const { fp, state } = h;
    if (fp === undefined || (state !== 'locked' && state !== 'unknown' && state !== 'completed')) return undefined;
    const rec: IdempotencyRecord = { fingerprint: fp, state, uncertain: h.unc === '1' };
    if (h.owner !== undefined) rec.lockOwner = h.owner;
    if (h.until !== undefined) rec.lockExpiresAt = Number(h.until);
    if (h.ukey !== undefined) rec.upstreamKey = h.ukey;
    if (h.result !== undefined) rec.result = h.result;
    return rec;
  }

  private async owned(
    operation: string,
    script: LuaScript,
    input: IdempotencyLockInput,
    extra: (string | number)[],
  ): Promise<boolean> {
    const reply = await storeCall(operation, () =>
      script.run(this.redis, [this.keys.idempotency(input.scope)], [input.lockOwner, ...extra]),
    );
    return reply === 1;
  }
}

/** The reply of the Lua idempotency_begin function (scripts.ts). */
export function parseBeginReply(reply: readonly (string | number)[]): IdempotencyBeginResult {
  switch (reply[0]) {
    case 'acquired': {
      const resumed = reply[1] === '1' || reply[1] === 1;
      const upstreamKey = reply[2] === undefined ? '' : String(reply[2]);
      return upstreamKey === '' ? { kind: 'acquired', resumed } : { kind: 'acquired', resumed, upstreamKey };
    }
    case 'mismatch':
      return { kind: 'mismatch' };
    case 'completed':
      return { kind: 'completed', result: replyString(reply[1], 'begin') };
    case 'in_progress':
      return { kind: 'in_progress', retryAfterMs: Math.max(1, replyNumber(reply[1], 'begin')) };
    default:
      throw new Error('Unexpected Redis reply to idempotency begin');
  }
}
