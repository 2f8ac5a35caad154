import { decodePayout, encodePayout } from '../stores/payout-codec.js';
import { assertKeyPart } from '../stores/validate.js';
import type { Payout } from '../zopay/types.js';
import { EventBusUnavailableError } from './errors.js';
import { deliver, safeHook, type ListenerEntry } from './listeners.js';
import type { EventBus, EventBusHooks, EventBusStats, PayoutListener } from './types.js';

/**
 * In-process bus for a single instance (REDIS_URL unset). Same contract as the Redis bus: payouts go
 * through their JSON form, delivery is asynchronous to `publish`'s caller, listeners are isolated.
 */
export class MemoryEventBus implements EventBus {
  private readonly topics = new Map<string, Set<ListenerEntry>>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly counters = { malformed: 0, listenerErrors: 0, resyncs: 0 };
  private closed = false;

  constructor(private readonly hooks: EventBusHooks = {}) {}

  async publish(payout: Payout): Promise<void> {
    const json = encodePayout(payout);
    if (this.closed) throw new EventBusUnavailableError('publish', new Error('event bus closed'));
    await Promise.resolve();
    const entries = this.topics.get(payout.id);
    const decoded = decodePayout(json);
    if (entries === undefined || decoded === undefined) return;
    deliver(entries, decoded, (err) => this.listenerFailed(err, payout.id));
  }

  async subscribe(payoutId: string, listener: PayoutListener): Promise<() => Promise<void>> {
    assertKeyPart('payoutId', payoutId);
    if (this.closed) throw new EventBusUnavailableError('subscribe', new Error('event bus closed'));
    const entry: ListenerEntry = { listener };
    const entries = this.topics.get(payoutId) ?? new Set<ListenerEntry>();
    entries.add(entry);
    this.topics.set(payoutId, entries);
    return async () => {
      entries.delete(entry);
      if (entries.size === 0 && this.topics.get(payoutId) === entries) this.topics.delete(payoutId);
    };
  }

  onResync(listener: () => void): () => void {
    const wrapped = () => listener();
    this.resyncListeners.add(wrapped);
    return () => void this.resyncListeners.delete(wrapped);
  }

  /** Test aid: behave as if the bus had reconnected (subscriptions re-read their snapshots). */
  simulateResync(): void {
    this.counters.resyncs++;
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (err) {
        safeHook(this.hooks.onResyncError, err);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
    this.resyncListeners.clear();
  }

  stats(): EventBusStats {
    let listeners = 0;
    for (const entries of this.topics.values()) listeners += entries.size;
    return { channels: this.topics.size, listeners, ...this.counters };
  }

  private listenerFailed(err: unknown, payoutId: string): void {
    this.counters.listenerErrors++;
    safeHook(this.hooks.onListenerError, err, payoutId);
  }
}

export function createMemoryEventBus(hooks: EventBusHooks = {}): MemoryEventBus {
  return new MemoryEventBus(hooks);
}
