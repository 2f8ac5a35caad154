import type { Payout } from '../zopay/types.js';
import type { PayoutListener } from './types.js';

/** One subscription; wrapping the function lets the same function subscribe twice and count twice. */
export interface ListenerEntry {
  listener: PayoutListener;
}

/**
 * Calls every listener with its own copy of the payout, so one listener can neither break delivery to
 * the others (exceptions and rejected promises are caught and reported) nor mutate what they receive.
 */
export function deliver(
  entries: Iterable<ListenerEntry>,
  payout: Payout,
  onError: (err: unknown) => void,
): void {
  const snapshot = [...entries];
  snapshot.forEach(({ listener }, i) => {
    // The last listener gets the original, every other one a copy made before anyone could mutate it.
    const copy = i === snapshot.length - 1 ? payout : structuredClone(payout);
    try {
      const returned: unknown = listener(copy);
      if (returned instanceof Promise) returned.catch(onError);
    } catch (err) {
      onError(err);
    }
  });
}

export function safeHook<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  try {
    hook?.(...args);
  } catch {
    // Observability must not break delivery.
  }
}
