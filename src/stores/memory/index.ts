import { STORE_DEFAULTS, type Clock, type Stores, type StoreTtlOptions } from '../types.js';
import { MemoryIdempotencyStore } from './idempotency.js';
import { MemoryOwnerStore } from './owners.js';
import { MemoryPayoutStore } from './payouts.js';
import { MemoryQuoteStore } from './quotes.js';
import { MemoryRateLimiter } from './rate-limiter.js';

/** Stores for a single instance without Redis (REDIS_URL unset). State is lost on restart. */
export function createMemoryStores(opts: { clock: Clock } & StoreTtlOptions): Stores {
  const payouts = new MemoryPayoutStore(opts.clock, opts.payoutTtlSeconds ?? STORE_DEFAULTS.payoutTtlSeconds);
  return {
    payouts,
    deliveries: payouts,
    owners: new MemoryOwnerStore(opts.clock, opts.ownerTtlSeconds ?? STORE_DEFAULTS.ownerTtlSeconds),
    quotes: new MemoryQuoteStore(opts.clock),
    idempotency: new MemoryIdempotencyStore(opts.clock),
    rateLimiter: new MemoryRateLimiter(opts.clock),
  };
}
