/**
 * Every timer the sandbox starts goes through one Scheduler, so that close() can cancel all of them and
 * nothing outlives the sandbox. Timers are unref'd: the listening server, not a pending retry, keeps a
 * process alive.
 */
export interface Scheduler {
  /** Runs `fn` after `ms` real milliseconds; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
  /** Resolves after `ms`, or never if the scheduler closes first. */
  sleep(ms: number): Promise<void>;
  readonly closed: boolean;
  /** Cancels every pending timer; later `after` calls are ignored. */
  close(): void;
}

export function createScheduler(): Scheduler {
  const pending = new Set<NodeJS.Timeout>();
  let closed = false;
  const after = (ms: number, fn: () => void): (() => void) => {
    if (closed) return () => undefined;
    const t = setTimeout(
      () => {
        pending.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    pending.add(t);
    return () => {
      clearTimeout(t);
      pending.delete(t);
    };
  };
  return {
    after,
    sleep: (ms) => new Promise((resolve) => void after(ms, resolve)),
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      for (const t of pending) clearTimeout(t);
      pending.clear();
    },
  };
}
