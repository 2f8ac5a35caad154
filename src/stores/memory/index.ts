import { composeExecuteStore } from '../execute-steps.js';
import { STORE_DEFAULTS, type Clock, type Stores, type StoreTtlOptions } from '../types.js';
import { MemoryIdempotencyStore } from './idempotency.js';
import { MemoryLeaseStore } from './leases.js';
import { MemoryOwnerStore } from './owners.js';
import { MemoryPayoutStore } from './payouts.js';
import { MemoryQuoteStore } from './quotes.js';
import { MemoryRateLimiter } from './rate-limiter.js';

/** Stores for a single instance without Redis (REDIS_URL unset). State is lost on restart. */
export function createMemoryStores(opts: { clock: Clock } & StoreTtlOptions): Stores {
  const payouts = new MemoryPayoutStore(opts.clock, opts.payoutTtlSeconds ?? STORE_DEFAULTS.payoutTtlSeconds);
  const owners = new MemoryOwnerStore(opts.clock, opts.ownerTtlSeconds ?? STORE_DEFAULTS.ownerTtlSeconds);
  const quotes = new MemoryQuoteStore(opts.clock);
  const idempotency = new MemoryIdempotencyStore(opts.clock);
  const rateLimiter = new MemoryRateLimiter(opts.clock);
  return {
    leases: new MemoryLeaseStore(opts.clock),
    payouts,
    deliveries: payouts,
    owners,
    quotes,
    idempotency,
    rateLimiter,
    execute: composeExecuteStore({ rateLimiter, quotes, idempotency, status: payouts, owners }),
  };
}
