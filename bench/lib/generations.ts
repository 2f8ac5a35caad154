/**
 * A map that forgets in bulk: entries live in the current generation, the previous one is still read,
 * anything older is dropped when a generation turns over. Memory stays bounded under millions of writes
 * (an entry is remembered for between one and two `generationMs`), and there is no per-entry timer.
 */
export class Generations<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private turnedAt: number;

  constructor(
    private readonly generationMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.turnedAt = now();
  }

  get(key: K): V | undefined {
    this.turn();
    return this.current.get(key) ?? this.previous.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): void {
    this.turn();
    this.current.set(key, value);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Newest first across both generations (insertion order reversed), at most `limit` values. */
  newest(limit: number): V[] {
    const out: V[] = [];
    for (const map of [this.current, this.previous]) {
      const values = [...map.values()];
      for (let i = values.length - 1; i >= 0 && out.length < limit; i--) out.push(values[i] as V);
    }
    return out;
  }

  private turn(): void {
    const now = this.now();
    if (now - this.turnedAt < this.generationMs) return;
    // Two generations late: nothing is worth keeping.
    this.previous = now - this.turnedAt < 2 * this.generationMs ? this.current : new Map();
    this.current = new Map();
    this.turnedAt = now;
  }
}
