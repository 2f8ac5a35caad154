import { isFinalStatus, statusRank, type Payout } from '../zopay/types.js';
import type { PayoutHub } from './hub.js';

/**
 * One subscriber's view of a payout: subscribe first, then read the snapshot, then stream. Emits only
 * progress (a higher status rank than already sent), so duplicates and stale events vanish and the
 * buffer never holds more than one event per rank: bounded by construction. Ends after a final.
 *
 * A hand-written iterator rather than an async generator: `return()` (the client unsubscribed) must
 * release the subscription at once, even while the stream is waiting for the next event; a suspended
 * async generator would only see it after its next yield, which may never come.
 */
export type PayoutStatusStream = AsyncIterableIterator<Payout> & {
  /**
   * Starts the stream now rather than on the first pull: watches, then reads the snapshot. Rejects
   * when the stream cannot start (no such payout, store down), so that the subscription fails before
   * its first event, alike for every caller and transport; the first pull then gets the snapshot.
   */
  ready(): Promise<void>;
  fail(err: Error): void;
  /** Events (raw payouts) to `push` when the consumer is waiting; see DirectPush. */
  pushEvents(push: DirectPush<Payout>): void;
};

/**
 * Hands an event to the transport without `next()`: true when it was written in the listener's turn;
 * a promise when its answer is not ready yet (a field read upstream), resolving to the write to make
 * once it is (the stream makes it only if the subscriber is still there, and keeps later events until
 * then); false when it cannot (the event then goes through `next()` as usual). Never called for an
 * event while an earlier one is on its way, so a subscriber receives events in the stream's order.
 */
export type DirectPush<T> = (event: T) => boolean | Promise<(() => void) | undefined>;

export function payoutStatusStream(opts: {
  hub: PayoutHub;
  payoutId: string;
  /** Read after the subscription is live; undefined means the payout does not exist. */
  snapshot: () => Promise<Payout | undefined>;
  onMissing: () => Error;
  /** Called once when the stream ends, however it ends. */
  onEnd?: () => void;
  /** Called when the snapshot has been read (or failed), or the stream ended first; may be called twice. */
  onSetupDone?: () => void;
  /** Maps infrastructure failures (bus or store down) to what the client sees. */
  translate?: (err: unknown) => Error;
}): PayoutStatusStream {
  let ended = false;
  const end = () => {
    opts.onSetupDone?.();
    if (ended) return;
    ended = true;
    opts.onEnd?.();
  };
  const pending: Payout[] = [];
  let lastRank = -1;
  let started = false;
  let finished = false;
  let unwatch: (() => void) | undefined;
  let waiter: ((r: IteratorResult<Payout>) => void) | undefined;
  let failWaiter: ((err: Error) => void) | undefined;
  let failure: Error | undefined;
  let direct: DirectPush<Payout> | undefined;
  /** A direct push waiting for its answer: later events wait in `pending`. */
  let pushing = false;
  /** The first result, when ready() started the stream before the first pull. */
  let primed: Promise<IteratorResult<Payout>> | undefined;

  const finish = (): IteratorResult<Payout> => {
    end();
    finished = true;
    primed = undefined;
    pending.length = 0;
    unwatch?.();
    unwatch = undefined;
    const w = waiter;
    waiter = undefined;
    failWaiter = undefined;
    w?.({ done: true, value: undefined });
    return { done: true, value: undefined };
  };

  const take = (): IteratorResult<Payout> | undefined => {
    while (pending.length > 0) {
      const next = pending.shift() as Payout;
      if (statusRank(next.status) <= lastRank) continue;
      lastRank = statusRank(next.status);
      if (isFinalStatus(next.status)) {
        // Deliver the final, then end: the next pull completes the subscription.
        pending.length = 0;
        finished = true;
        unwatch?.();
        unwatch = undefined;
      }
      return { done: false, value: next };
    }
    return undefined;
  };

  const offer = (p: Payout) => {
    if (finished) return;
    const top = pending.length > 0 ? statusRank((pending[pending.length - 1] as Payout).status) : lastRank;
    if (statusRank(p.status) <= top) return;
    pending.push(p);
    // A waiting `next()` means the consumer has taken (and sent) everything before: the event may skip
    // the promise hops of `next()` and go straight to the transport. The consumer keeps waiting; when
    // this was the final, the stream ends and its `next()` completes.
    if (waiter && started && !pushing) hand();
  };

  /** The next event to the waiting consumer: pushed when the transport takes it, else through `next()`. */
  const hand = (): void => {
    const r = take();
    if (!r) return;
    const push = direct;
    // A push that throws did not deliver: the event then takes the usual way (and its error with it).
    const delivery = push ? attempt(() => push(r.value), false) : false;
    if (delivery === true) {
      if (finished) finish();
      return;
    }
    if (delivery !== false) {
      pushing = true;
      delivery
        .then(
          (write) => landed(r, write),
          () => landed(r, undefined),
        )
        // A fault in what ends the stream must not leave it open, nor become an unhandled rejection.
        .catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
      return;
    }
    resolveWaiter(r);
  };

  const readyForMore = (): boolean => waiter !== undefined && !pushing && pending.length > 0;

  /** An asynchronous push's answer is ready: written if the subscriber is still waiting, then the rest. */
  const landed = (r: IteratorResult<Payout>, write: (() => void) | undefined): void => {
    pushing = false;
    // No waiter: the subscriber left (return) or the stream failed meanwhile; nothing more to send.
    if (!waiter) return;
    if (!write || !attempt(() => (write(), true), false)) {
      // The usual way then: `next()` hands it over (and its error, if the answer failed).
      resolveWaiter(r);
      return;
    }
    if (finished) finish();
    // What arrived meanwhile, in order, as long as each goes out at once (hand() may end the wait).
    else while (readyForMore()) hand();
  };

  /**
   * Ends the stream with an error, not a completion: `complete` promises the final status was
   * delivered, so a stream cut short (shutdown, token expiry) must tell the client to subscribe again.
   * graphql-ws sends it as an error; GraphQL over SSE has no such event, so Yoga sends a result carrying
   * the error and then `complete` (the README says how to read that).
   */
  const fail = (err: Error): void => {
    if (finished && !waiter) return;
    const reject = failWaiter;
    if (reject) {
      waiter = undefined;
      failWaiter = undefined;
      reject(err);
    } else {
      failure = err;
    }
    end();
    finished = true;
    primed = undefined;
    pending.length = 0;
    unwatch?.();
    unwatch = undefined;
  };

  const resolveWaiter = (r: IteratorResult<Payout>): void => {
    const w = waiter;
    waiter = undefined;
    // A settled `next()` can no longer be failed: a later fail() must be kept for the next pull.
    failWaiter = undefined;
    w?.(r);
  };

  const start = async (): Promise<IteratorResult<Payout>> => {
    try {
      unwatch = await opts.hub.watch(opts.payoutId, offer);
    } catch (err) {
      finish();
      throw opts.translate ? opts.translate(err) : err;
    }
    if (finished) {
      unwatch();
      // Failed while subscribing (shutdown, token expiry): the error, never a completion, which would
      // claim the final status was delivered.
      if (failure) {
        const err = failure;
        failure = undefined;
        throw err;
      }
      return { done: true, value: undefined };
    }
    const first = await opts.snapshot().catch((err: unknown) => {
      finish();
      throw opts.translate ? opts.translate(err) : err;
    });
    opts.onSetupDone?.();
    if (!first) {
      finish();
      throw opts.onMissing();
    }
    started = true;
    // Anything that raced in before the snapshot and is not newer is dropped by rank.
    const newer = pending.filter((p) => statusRank(p.status) > statusRank(first.status));
    pending.length = 0;
    pending.push(first, ...newer);
    return take() ?? finish();
  };

  const iterator: AsyncIterableIterator<Payout> = {
    next: () => {
      if (failure) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (primed) {
        const first = primed;
        primed = undefined;
        return first;
      }
      if (!started && !finished) return start();
      if (finished && pending.length === 0) return Promise.resolve(finish());
      const r = take();
      if (r) return Promise.resolve(r);
      if (finished) return Promise.resolve(finish());
      return new Promise((resolve, reject) => {
        waiter = resolve;
        failWaiter = reject;
      });
    },
    return: () => Promise.resolve(finish()),
    throw: (err: unknown) => {
      finish();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return Object.assign(iterator, {
    ready(): Promise<void> {
      if (started || finished || primed) return Promise.resolve();
      const first = start();
      primed = first;
      return first.then(
        () => undefined,
        (err: unknown) => {
          // It ended: what it failed with goes to the caller, and a later pull finds it finished.
          primed = undefined;
          throw err;
        },
      );
    },
    pushEvents(push: DirectPush<Payout>): void {
      direct = push;
    },
    fail,
  });
}

/** `run()`'s answer, or `otherwise` when it throws. */
function attempt<T, U>(run: () => T, otherwise: U): T | U {
  try {
    return run();
  } catch {
    return otherwise;
  }
}
