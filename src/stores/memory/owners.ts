import type { Clock, OwnerStore } from '../types.js';
import { assertKeyPart, assertPage, assertPositiveInt } from '../validate.js';
import { TtlMap } from './ttl-map.js';

/** Owner per payout plus, per caller, the payouts it owns with the time they were recorded. */
export class MemoryOwnerStore implements OwnerStore {
  private readonly owners: TtlMap<string, string>;
  private readonly index = new Map<string, Map<string, number>>();
  private writes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    assertPositiveInt('ownerTtlSeconds', ttlSeconds);
    this.owners = new TtlMap(clock);
  }

  async setOwner(payoutId: string, sub: string): Promise<string> {
    assertKeyPart('payoutId', payoutId);
    assertKeyPart('sub', sub);
    const existing = this.owners.get(payoutId);
    if (existing !== undefined) return existing;
    this.owners.set(payoutId, sub, this.ttlSeconds * 1000);
    const owned = this.index.get(sub) ?? new Map<string, number>();
    owned.set(payoutId, this.clock.now());
    this.index.set(sub, owned);
    if (++this.writes >= 1_000) this.sweep();
    return sub;
  }

  async getOwner(payoutId: string): Promise<string | undefined> {
    assertKeyPart('payoutId', payoutId);
    return this.owners.get(payoutId);
  }

  async getOwners(payoutIds: readonly string[]): Promise<(string | undefined)[]> {
    for (const id of payoutIds) assertKeyPart('payoutId', id);
    return payoutIds.map((id) => this.owners.get(id));
  }

  async listOwned(sub: string, page: { offset: number; limit: number }): Promise<{ ids: string[]; total: number }> {
    assertKeyPart('sub', sub);
    assertPage(page);
    const cutoff = this.clock.now() - this.ttlSeconds * 1000;
    const live = [...(this.index.get(sub) ?? new Map<string, number>())]
      .filter(([, at]) => at > cutoff)
      // Newest first; ties in reverse id order, as Redis' ZREVRANGEBYSCORE returns them.
      .sort(([idA, atA], [idB, atB]) => atB - atA || (idA < idB ? 1 : idA > idB ? -1 : 0));
    return { total: live.length, ids: live.slice(page.offset, page.offset + page.limit).map(([id]) => id) };
  }

  private sweep(): void {
    this.writes = 0;
    const cutoff = this.clock.now() - this.ttlSeconds * 1000;
    for (const [sub, owned] of this.index) {
      for (const [id, at] of owned) if (at <= cutoff) owned.delete(id);
      if (owned.size === 0) this.index.delete(sub);
    }
  }
}
