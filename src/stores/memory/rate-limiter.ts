import { gcra, validateRateLimit } from '../rate-limit-math.js';
import type { Clock, RateLimiter, RateLimitInput, RateLimitResult } from '../types.js';
import { TtlMap } from './ttl-map.js';

export class MemoryRateLimiter implements RateLimiter {
  private readonly tats: TtlMap<string, number>;

  constructor(private readonly clock: Clock) {
    this.tats = new TtlMap(clock);
  }

  async take(input: RateLimitInput): Promise<RateLimitResult> {
    const cost = validateRateLimit(input);
    const step = gcra(this.tats.get(input.key), this.clock.now(), input.limit, input.windowMs, cost, input.keepFree);
    if (!step.allowed) return step;
    this.tats.set(input.key, step.tat, step.ttlMs);
    return { allowed: true, remaining: step.remaining };
  }
}
