import type { Payout } from '../zopay/types.js';

/** The event bus as the realtime layer uses it (implemented in src/events over Redis or memory). */
export interface PayoutEventBus {
  publish(payout: Payout): Promise<void>;
  /** Resolves once the subscription is active (Redis SUBSCRIBE acknowledged). */
  subscribe(payoutId: string, listener: (payout: Payout) => void): Promise<() => Promise<void>>;
  /** Called after the bus reconnected: events may have been missed meanwhile. */
  onResync(listener: () => void): () => void;
}
