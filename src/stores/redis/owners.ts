import type { Redis } from 'ioredis';
import type { Clock, OwnerStore } from '../types.js';
import { assertKeyPart, assertPositiveInt, assertPage } from '../validate.js';
import { replyArray, replyNumber, storeCall } from './call.js';
import type { RedisKeys } from './keys.js';
import { LIST_OWNED, SET_OWNER } from './scripts.js';

/** Owner per payout (string key) plus, per caller, a sorted set of its payouts scored by time. */
export class RedisOwnerStore implements OwnerStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    assertPositiveInt('ownerTtlSeconds', ttlSeconds);
  }

  async setOwner(payoutId: string, sub: string): Promise<string> {
    assertKeyPart('payoutId', payoutId);
    assertKeyPart('sub', sub);
    const reply = await storeCall('owner set', () =>
      SET_OWNER.run(
        this.redis,
        [this.keys.owner(payoutId), this.keys.ownerIndex(sub)],
        [sub, this.ttlSeconds, Math.floor(this.clock.now()), payoutId],
      ),
    );
    if (typeof reply !== 'string') throw new Error('Unexpected Redis reply to setOwner');
    return reply;
  }

  async getOwner(payoutId: string): Promise<string | undefined> {
    assertKeyPart('payoutId', payoutId);
    const owner = await storeCall('owner get', () => this.redis.get(this.keys.owner(payoutId)));
    return owner ?? undefined;
  }

  async getOwners(payoutIds: readonly string[]): Promise<(string | undefined)[]> {
    for (const id of payoutIds) assertKeyPart('payoutId', id);
    if (payoutIds.length === 0) return [];
    const owners = await storeCall('owner getMany', () => this.redis.mget(payoutIds.map((id) => this.keys.owner(id))));
    return owners.map((o) => o ?? undefined);
  }

  async listOwned(sub: string, page: { offset: number; limit: number }): Promise<{ ids: string[]; total: number }> {
    assertKeyPart('sub', sub);
    assertPage(page);
    const reply = replyArray(
      await storeCall('owner list', () =>
        LIST_OWNED.run(
          this.redis,
          [this.keys.ownerIndex(sub)],
          [Math.floor(this.clock.now()), this.ttlSeconds, page.offset, page.limit],
        ),
      ),
      'listOwned',
    );
    const [total, ...ids] = reply;
    return { total: replyNumber(total, 'listOwned'), ids: ids.map(String) };
  }
}
