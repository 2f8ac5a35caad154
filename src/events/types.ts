import type { Payout } from '../zopay/types.js';

/** Receives payouts published for the payout it subscribed to. Exceptions are caught and counted. */
export type PayoutListener = (payout: Payout) => void;

/**
 * Payout status events, one topic per payout id. Delivery is at most once (Redis pub/sub): a
 * subscriber must read a snapshot after `subscribe` resolves and again whenever `onResync` fires.
 */
export interface EventBus {
  /** Resolves once the event is handed to Redis; rejects with EventBusUnavailableError otherwise. */
  publish(payout: Payout): Promise<void>;
  /**
   * Resolves once the subscription is live (Redis SUBSCRIBE acknowledged), so a snapshot read after it
   * cannot miss an event. N local listeners of one payout share one Redis channel subscription. The
   * returned function removes this listener (the channel is unsubscribed with its last listener); it
   * never rejects. Rejects with EventBusUnavailableError when Redis cannot be reached.
   */
  subscribe(payoutId: string, listener: PayoutListener): Promise<() => Promise<void>>;
  /**
   * Called after the subscriber connection came back and every channel is subscribed again: events
   * published in the gap were lost, re-read snapshots. Returns a function that removes the listener.
   */
  onResync(listener: () => void): () => void;
  /** Drops every subscription; later publish/subscribe calls reject. Connections stay open (the caller owns them). */
  close(): Promise<void>;
  stats(): EventBusStats;
}

export interface EventBusStats {
  /** Payout channels with at least one local listener or a pending (un)subscribe. */
  channels: number;
  listeners: number;
  /** Messages dropped because they were not a valid payout for their channel. */
  malformed: number;
  /** Exceptions thrown (or rejections returned) by listeners. */
  listenerErrors: number;
  /** Completed re-syncs after a reconnect. */
  resyncs: number;
}

/** Observability hooks. Throwing from a hook is caught and ignored. */
export interface EventBusHooks {
  onListenerError?: (err: unknown, payoutId: string) => void;
  onMalformed?: (channel: string) => void;
  /** A resync listener threw. */
  onResyncError?: (err: unknown) => void;
}
