import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { LeaseStore } from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { storeCall } from './call.js';
import type { RedisKeys } from './keys.js';
import { LEASE_RELEASE } from './scripts.js';

/** Leases shared by every instance: SET NX PX, given back by the holder's token only. */
export class RedisLeaseStore implements LeaseStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(key: string, ttlMs: number): Promise<string | undefined> {
    assertKeyPart('lease key', key);
    assertPositiveInt('ttlMs', ttlMs);
    const token = randomUUID();
    const reply = await storeCall('lease acquire', () => this.redis.set(this.keys.lease(key), token, 'PX', ttlMs, 'NX'));
    return reply === 'OK' ? token : undefined;
  }

  async release(key: string, token: string): Promise<void> {
    assertKeyPart('lease key', key);
    await storeCall('lease release', () => LEASE_RELEASE.run(this.redis, [this.keys.lease(key)], [token]));
  }
}
