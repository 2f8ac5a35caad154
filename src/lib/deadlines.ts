/**
 * Items that expire at an instant (streams and sockets opened with a token end at its `exp`), with one
 * timer per distinct instant rather than one per item: every subscription a token opened shares its
 * expiry, so thousands of subscriptions cost a handful of timers, and ending one is a set delete.
 *
 * A deadline further away than one timer reaches (setTimeout holds 2^31 - 1 ms, 24.8 days; beyond,
 * Node fires after 1 ms) is approached in steps, and nothing expires while the clock says its instant
 * is still ahead.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Bucket<T> {
  items: Set<T>;
  timer: NodeJS.Timeout;
}

export class Deadlines<T> {
  private readonly buckets = new Map<number, Bucket<T>>();

  constructor(
    private readonly now: () => number,
    private readonly onExpired: (item: T) => void,
  ) {}

  /** `item` expires at `at` (epoch ms): `onExpired(item)` then, unless removed first. */
  add(at: number, item: T): void {
    let bucket = this.buckets.get(at);
    if (!bucket) {
      bucket = { items: new Set(), timer: this.arm(at) };
      this.buckets.set(at, bucket);
    }
    bucket.items.add(item);
  }

  /** Forgets `item` (it ended on its own); the instant's timer goes with its last item. */
  remove(at: number, item: T): void {
    const bucket = this.buckets.get(at);
    if (!bucket?.items.delete(item) || bucket.items.size > 0) return;
    clearTimeout(bucket.timer);
    this.buckets.delete(at);
  }

  /** Timers pending, for tests and metrics: one per distinct instant with items. */
  timers(): number {
    return this.buckets.size;
  }

  private arm(at: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.due(at), Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS));
    timer.unref();
    return timer;
  }

  /** The timer ran: expire, unless the instant is still ahead (a step of a far deadline, or the clock moved back). */
  private due(at: number): void {
    const bucket = this.buckets.get(at);
    if (!bucket) return;
    if (at > this.now()) {
      bucket.timer = this.arm(at);
      return;
    }
    this.buckets.delete(at);
    for (const item of bucket.items) {
      try {
        this.onExpired(item);
      } catch {
        // One item's failure must not keep the others alive past their token.
      }
    }
  }
}
