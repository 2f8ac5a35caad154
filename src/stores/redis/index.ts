import type { Redis } from 'ioredis';
import { STORE_DEFAULTS, type Clock, type Stores, type StoreTtlOptions } from '../types.js';
import { RedisExecuteStore } from './execute.js';
import { RedisIdempotencyStore } from './idempotency.js';
import { RedisLeaseStore } from './leases.js';
import { redisKeys } from './keys.js';
import { RedisOwnerStore } from './owners.js';
import { RedisPayoutStore } from './payouts.js';
import { RedisQuoteStore } from './quotes.js';
import { RedisRateLimiter } from './rate-limiter.js';

export interface RedisStoresOptions extends StoreTtlOptions {
  /** A command connection from createRedisConnection (fails fast while Redis is down). */
  redis: Redis;
  /** Put in front of every key, e.g. `zopay:`. */
  prefix: string;
  clock: Clock;
}

/**
 * Stores shared by every instance through one Redis. Multi-step logic runs in Lua (one round trip,
 * atomic); every key carries a TTL. Redis must run with `maxmemory-policy noeviction` (see
 * lib/redis.ts ensureNoEviction): an evicted idempotency record could let a retry pay out twice.
 */
export function createRedisStores(opts: RedisStoresOptions): Stores {
  if (!/^[A-Za-z0-9:_-]{0,64}$/.test(opts.prefix)) throw new TypeError('Invalid Redis key prefix');
  const keys = redisKeys(opts.prefix);
  const payoutSeconds = opts.payoutTtlSeconds ?? STORE_DEFAULTS.payoutTtlSeconds;
  const ownerSeconds = opts.ownerTtlSeconds ?? STORE_DEFAULTS.ownerTtlSeconds;
  const payouts = new RedisPayoutStore(opts.redis, keys, payoutSeconds);
  return {
    leases: new RedisLeaseStore(opts.redis, keys),
    payouts,
    deliveries: payouts,
    owners: new RedisOwnerStore(opts.redis, keys, opts.clock, ownerSeconds),
    quotes: new RedisQuoteStore(opts.redis, keys),
    idempotency: new RedisIdempotencyStore(opts.redis, keys, opts.clock),
    rateLimiter: new RedisRateLimiter(opts.redis, keys, opts.clock),
    execute: new RedisExecuteStore(opts.redis, keys, opts.clock, { payoutSeconds, ownerSeconds }),
  };
}
