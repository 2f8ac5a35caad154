import type { Redis } from 'ioredis';
import { validateBegin, validateComplete } from '../idempotency-args.js';
import { encodePayout } from '../payout-codec.js';
import { decodeQuote } from '../quote-codec.js';
import { validateRateLimit } from '../rate-limit-math.js';
import type { Clock, ExecuteBeginInput, ExecuteBeginResult, ExecuteFinishInput, ExecuteFinishResult, ExecuteStore } from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { replyArray, replyNumber, replyString, storeCall } from './call.js';
import { parseBeginReply } from './idempotency.js';
import type { RedisKeys } from './keys.js';
import { parseApply } from './payouts.js';
import { EXECUTE_BEGIN, EXECUTE_FINISH } from './scripts.js';

/**
 * An execute's shared state in two scripts instead of six commands: fewer round trips for the caller,
 * less work for Redis, and the accepted payout's status, owner and outcome land together. The keys span
 * several hash slots (like the owner index already does), so this needs one Redis, not a Cluster.
 */
export class RedisExecuteStore implements ExecuteStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
    private readonly ttl: { payoutSeconds: number; ownerSeconds: number },
  ) {
    assertPositiveInt('payoutTtlSeconds', ttl.payoutSeconds);
    assertPositiveInt('ownerTtlSeconds', ttl.ownerSeconds);
  }

  async begin({ rateLimit, quoteId, idempotency, quoteCheck }: ExecuteBeginInput): Promise<ExecuteBeginResult> {
    const cost = validateRateLimit(rateLimit);
    assertKeyPart('quoteId', quoteId);
    validateBegin(idempotency);
    const keys = [this.keys.rateLimit(rateLimit.key), this.keys.quote(quoteId), this.keys.idempotency(idempotency.scope)];
    if (quoteCheck) assertKeyPart('quoteCheck.owner', quoteCheck.owner);
    // The script's `now` (ARGV[1]) is also the instant the quote's expiry is checked at: the caller's.
    const args = [
      Math.floor(quoteCheck?.nowMs ?? this.clock.now()),
      rateLimit.limit,
      rateLimit.windowMs,
      cost,
      idempotency.fingerprint,
      idempotency.lockOwner,
      idempotency.lockTtlMs,
      idempotency.recordTtlSeconds,
      idempotency.upstreamKey ?? '',
      quoteCheck?.owner ?? '',
      quoteCheck?.recipientMsisdn ?? '',
      quoteCheck?.refuse === true ? '1' : '',
    ];
    const reply = replyArray(await storeCall('execute begin', () => EXECUTE_BEGIN.run(this.redis, keys, args)), 'executeBegin');
    if (reply[0] === 0) return { kind: 'rate_limited', retryAfterMs: Math.max(1, replyNumber(reply[1], 'executeBegin')) };
    const quoteJson = replyString(reply[1], 'executeBegin');
    const quote = quoteJson === '' ? undefined : decodeQuote(quoteJson);
    if (reply[0] === 2) return { kind: 'quote_refused', quote };
    return { kind: 'begun', quote, begun: parseBeginReply(reply.slice(2)) };
  }

  async finish({ payout, owner, lock, result, recordTtlSeconds }: ExecuteFinishInput): Promise<ExecuteFinishResult> {
    assertKeyPart('payoutId', payout.id);
    assertKeyPart('sub', owner);
    validateComplete({ ...lock, result, recordTtlSeconds });
    const keys = [this.keys.status(payout.id), this.keys.owner(payout.id), this.keys.ownerIndex(owner), this.keys.idempotency(lock.scope)];
    const args = [
      encodePayout(payout),
      this.ttl.payoutSeconds,
      owner,
      this.ttl.ownerSeconds,
      Math.floor(this.clock.now()),
      payout.id,
      lock.lockOwner,
      result,
      recordTtlSeconds,
    ];
    const reply = replyArray(await storeCall('execute finish', () => EXECUTE_FINISH.run(this.redis, keys, args)), 'executeFinish');
    return { applied: parseApply(reply.slice(0, 2)), owner: replyString(reply[2], 'executeFinish'), completed: reply[3] === 1 };
  }
}
