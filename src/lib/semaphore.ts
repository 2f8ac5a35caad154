/**
 * A counting semaphore with a FIFO queue. `acquire()` resolves to a release function; calling it more
 * than once releases once.
 */
export class Semaphore {
  private available: number;
  private queue: (() => void)[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) throw new TypeError('capacity must be a positive integer');
    this.available = capacity;
  }

  /** Permits held right now. */
  get inUse(): number {
    return this.capacity - this.available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => this.queue.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue[this.head];
      if (next === undefined) {
        if (this.head > 0) {
          this.queue = [];
          this.head = 0;
        }
        this.available++;
        return;
      }
      // Hand the permit straight to the next waiter; compact the queue now and then.
      this.head++;
      if (this.head > 1_024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      next();
    };
  }
}
