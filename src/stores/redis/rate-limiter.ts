import type { Redis } from 'ioredis';
import { validateRateLimit } from '../rate-limit-math.js';
import type { Clock, RateLimiter, RateLimitInput, RateLimitResult } from '../types.js';
import { replyArray, replyNumber, storeCall } from './call.js';
import type { RedisKeys } from './keys.js';
import { RATE_LIMIT } from './scripts.js';

/** GCRA in one script: every instance sharing the Redis shares the budget. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  async take(input: RateLimitInput): Promise<RateLimitResult> {
    const cost = validateRateLimit(input);
    const reply = replyArray(
      await storeCall('rate limit', () =>
        RATE_LIMIT.run(
          this.redis,
          [this.keys.rateLimit(input.key)],
          [Math.floor(this.clock.now()), input.limit, input.windowMs, cost, input.keepFree ?? 0],
        ),
      ),
      'rateLimit',
    );
    const value = replyNumber(reply[1], 'rateLimit');
    return reply[0] === 1 ? { allowed: true, remaining: value } : { allowed: false, retryAfterMs: Math.max(1, value) };
  }
}
