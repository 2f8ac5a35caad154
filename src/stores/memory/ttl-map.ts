import type { Clock } from '../types.js';

/**
 * A Map whose entries expire, on the injected clock. Expired entries are invisible at once and swept
 * every `sweepEvery` writes, so memory stays bounded by what is live (the in-memory twin of Redis TTLs).
 */
export class TtlMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private writes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sweepEvery = 1_000,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    if (++this.writes >= this.sweepEvery) this.sweep();
  }

  /** Replaces a live entry's value and keeps its expiry; false when there is no live entry. */
  replace(key: K, value: V): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.clock.now()) return false;
    entry.value = value;
    return true;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Live and not-yet-swept entries. */
  get size(): number {
    return this.entries.size;
  }

  sweep(): void {
    this.writes = 0;
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
