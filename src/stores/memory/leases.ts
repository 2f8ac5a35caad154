import { randomUUID } from 'node:crypto';
import type { Clock, LeaseStore } from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { TtlMap } from './ttl-map.js';

/** Leases of one process (REDIS_URL unset): the in-memory twin of the Redis SET NX PX. */
export class MemoryLeaseStore implements LeaseStore {
  private readonly held: TtlMap<string, string>;

  constructor(clock: Clock) {
    this.held = new TtlMap(clock);
  }

  // async: a bad argument rejects, as the Redis store's does.
  async acquire(key: string, ttlMs: number): Promise<string | undefined> {
    assertKeyPart('lease key', key);
    assertPositiveInt('ttlMs', ttlMs);
    if (this.held.has(key)) return undefined;
    const token = randomUUID();
    this.held.set(key, token, ttlMs);
    return token;
  }

  async release(key: string, token: string): Promise<void> {
    if (this.held.get(key) === token) this.held.delete(key);
  }
}
