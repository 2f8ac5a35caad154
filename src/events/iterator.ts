import { isFinalStatus, type Payout } from '../zopay/types.js';
import type { EventBus } from './types.js';

export interface PayoutEventIterator {
  /** Yields the payout's events in arrival order and ends after the first final status. */
  iterator: AsyncIterableIterator<Payout>;
  /** Resolves once the bus subscription is live: read the snapshot after it, not before. */
  ready: Promise<void>;
  /** Ends the iterator and releases the bus subscription. Never rejects. */
  close(): Promise<void>;
  /** Events dropped because the consumer fell `maxBuffer` events behind. */
  dropped(): number;
  /** Events waiting to be consumed (never more than maxBuffer). */
  buffered(): number;
}

/**
 * A bounded async iterator over one payout's events, for the GraphQL subscription resolver. The buffer
 * keeps at most `maxBuffer` events: when it is full the oldest non-final event is dropped (a later event
 * supersedes it), and a final event is never dropped. Nothing is accepted after a final event, and the
 * bus subscription is released as soon as it arrives. If subscribing fails, `ready` rejects and so
 * does the first `next()`.
 */
export function subscribeIterator(
  bus: Pick<EventBus, 'subscribe'>,
  payoutId: string,
  opts: { maxBuffer: number },
): PayoutEventIterator {
  if (!Number.isSafeInteger(opts.maxBuffer) || opts.maxBuffer < 1) throw new TypeError('maxBuffer must be >= 1');
  const buffer: Payout[] = [];
  const waiters: { resolve: (r: IteratorResult<Payout>) => void; reject: (err: unknown) => void }[] = [];
  /** No more events are accepted (final seen, closed, or failed). */
  let sealed = false;
  let failure: { error: unknown } | undefined;
  let dropped = 0;
  let released: Promise<void> | undefined;

  const push = (payout: Payout): void => {
    if (sealed) return;
    if (isFinalStatus(payout.status)) {
      sealed = true;
      void release();
    }
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: payout, done: false });
      if (sealed) for (const w of waiters.splice(0)) w.resolve({ value: undefined, done: true });
      return;
    }
    if (buffer.length >= opts.maxBuffer) {
      // Only the last buffered event can be final (nothing is accepted after one), so with
      // maxBuffer >= 1 a full buffer always holds a non-final event to drop.
      const oldest = buffer.findIndex((p) => !isFinalStatus(p.status));
      if (oldest === -1) {
        dropped++;
        return;
      }
      buffer.splice(oldest, 1);
      dropped++;
    }
    buffer.push(payout);
  };

  const subscription = bus.subscribe(payoutId, push);
  const ready = subscription.then(
    () => undefined,
    (error: unknown) => {
      sealed = true;
      if (waiters.length > 0) for (const w of waiters.splice(0)) w.reject(error);
      else failure = { error };
      throw error;
    },
  );
  // The caller may never await `ready`; its failure still reaches them through next().
  ready.catch(() => undefined);

  function release(): Promise<void> {
    released ??= subscription.then(
      (unsubscribe) => unsubscribe(),
      () => undefined,
    );
    return released;
  }

  const finish = async (): Promise<IteratorResult<Payout>> => {
    sealed = true;
    buffer.length = 0;
    for (const w of waiters.splice(0)) w.resolve({ value: undefined, done: true });
    await release();
    return { value: undefined, done: true };
  };

  const iterator: AsyncIterableIterator<Payout> = {
    next(): Promise<IteratorResult<Payout>> {
      const head = buffer.shift();
      if (head !== undefined) return Promise.resolve({ value: head, done: false });
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      // Once ended, the bus subscription is released before the consumer hears so.
      if (sealed) return (released ?? Promise.resolve()).then(() => ({ value: undefined, done: true }));
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
      });
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  return {
    iterator,
    ready,
    close: async () => {
      await finish();
    },
    dropped: () => dropped,
    buffered: () => buffer.length,
  };
}
