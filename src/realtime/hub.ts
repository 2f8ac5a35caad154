import type { Logger } from '../lib/logger.js';
import type { Payout } from '../zopay/types.js';
import { isFinalStatus } from '../zopay/types.js';
import type { EventBus } from '../events/types.js';

export type PayoutListener = (payout: Payout) => void;

export interface HubDeps {
  bus: EventBus;
  log: Logger;
  /**
   * Reads the payout from ZoPay and records it; `advanced` when the status moved forward. Used by the
   * reconciler (lost webhooks) and after a bus reconnect.
   */
  refresh(payoutId: string): Promise<{ payout: Payout; advanced: boolean } | undefined>;
  /** Last known status without an upstream call (the status store). */
  known(payoutId: string): Promise<Payout | undefined>;
  reconcileIntervalMs: number;
  /**
   * Whether this instance reads the payout this interval: every instance with a subscriber of the
   * payout reconciles it, and one read per interval among them is enough (its advance reaches the
   * others through the bus). Undefined: another instance has it; a failed read gives it back (`release`),
   * so that an instance that cannot read does not keep the others from it. Unset, or failing: read.
   */
  claimReconcile?(payoutId: string): Promise<{ release(): Promise<void> } | undefined>;
  /** Upper bound of concurrent reconcile GETs per tick. */
  reconcileConcurrency?: number;
}

/** A read made without a claim (none configured, or the store could not answer): nothing to give back. */
const UNCLAIMED = { release: () => Promise.resolve() };

/**
 * Listeners handed an event per turn of the event loop. A big fan-out is spread over several turns, so
 * the first subscribers' frames leave (see the write corking in http/ws.ts) while the next are served.
 */
const DELIVERY_CHUNK = 500;

interface Delivery {
  payout: Payout;
  listeners: PayoutListener[];
  next: number;
}

interface Topic {
  listeners: Set<PayoutListener>;
  /** Deliveries not yet handed to every listener, oldest first: events reach each listener in order. */
  queue: Delivery[];
  /** The bus subscription, shared by every local listener of this payout. */
  subscription: Promise<() => Promise<void>>;
  final: boolean;
}

/**
 * One instance's fan-out point for payout status: one bus subscription per watched payout however many
 * local subscribers it has; a reconciler that polls ZoPay once per interval per non-final watched payout,
 * across instances when they share a store (so a lost webhook still ends every subscription); and a re-read of every watched payout after the
 * bus reconnects (pub/sub is at-most-once).
 */
export class PayoutHub {
  private readonly topics = new Map<string, Topic>();
  private readonly timer: NodeJS.Timeout;
  private readonly stopResync: () => void;
  private reconciling = false;

  constructor(private readonly deps: HubDeps) {
    this.timer = setInterval(() => void this.reconcileTick(), deps.reconcileIntervalMs);
    this.timer.unref();
    this.stopResync = deps.bus.onResync(() => void this.resync());
  }

  /** Local subscribers per payout, for metrics and tests. */
  watchedCount(): number {
    return this.topics.size;
  }

  /** Starts delivering events of `payoutId` to `listener`; resolves once the bus subscription is live. */
  async watch(payoutId: string, listener: PayoutListener): Promise<() => void> {
    let topic = this.topics.get(payoutId);
    if (!topic) {
      const created: Topic = {
        listeners: new Set(),
        queue: [],
        final: false,
        subscription: this.deps.bus.subscribe(payoutId, (p) => this.deliver(p)),
      };
      topic = created;
      this.topics.set(payoutId, created);
      created.subscription.catch(() => {
        if (this.topics.get(payoutId) === created) this.topics.delete(payoutId);
      });
    }
    topic.listeners.add(listener);
    const t = topic;
    try {
      await t.subscription;
    } catch (err) {
      t.listeners.delete(listener);
      throw err;
    }
    return () => this.unwatch(payoutId, t, listener);
  }

  private unwatch(payoutId: string, topic: Topic, listener: PayoutListener): void {
    topic.listeners.delete(listener);
    if (topic.listeners.size > 0 || this.topics.get(payoutId) !== topic) return;
    this.topics.delete(payoutId);
    topic.subscription
      .then((unsubscribe) => unsubscribe())
      .catch((err: unknown) => this.deps.log.warn({ err: String(err), payoutId }, 'unsubscribe failed'));
  }

  /** Hands a snapshot to every local listener of its payout. Listeners drop what is not progress. */
  deliver(payout: Payout): void {
    const topic = this.topics.get(payout.id);
    if (!topic) return;
    if (isFinalStatus(payout.status)) topic.final = true;
    topic.queue.push({ payout, listeners: [...topic.listeners], next: 0 });
    if (topic.queue.length === 1) this.pump(topic);
  }

  /** One chunk of the oldest delivery now; the rest on the next turns. */
  private pump(topic: Topic): void {
    const delivery = topic.queue[0];
    if (!delivery) return;
    const end = Math.min(delivery.next + DELIVERY_CHUNK, delivery.listeners.length);
    for (let i = delivery.next; i < end; i++) {
      try {
        (delivery.listeners[i] as PayoutListener)(delivery.payout);
      } catch (err) {
        this.deps.log.warn({ err: String(err) }, 'payout listener failed');
      }
    }
    delivery.next = end;
    if (end === delivery.listeners.length) topic.queue.shift();
    if (topic.queue.length > 0) setImmediate(() => this.pump(topic));
  }

  private async resync(): Promise<void> {
    const ids = [...this.topics.keys()];
    this.deps.log.info({ watched: ids.length }, 'event bus reconnected; re-reading watched payouts');
    await Promise.all(
      ids.map(async (id) => {
        const known = await this.deps.known(id).catch(() => undefined);
        if (known) this.deliver(known);
      }),
    );
  }

  private async reconcileTick(): Promise<void> {
    if (this.reconciling) return; // a slow tick never overlaps the next: at most one GET per payout in flight
    this.reconciling = true;
    try {
      const ids = [...this.topics.entries()].filter(([, t]) => !t.final).map(([id]) => id);
      const limit = this.deps.reconcileConcurrency ?? 8;
      for (let i = 0; i < ids.length; i += limit) {
        await Promise.all(ids.slice(i, i + limit).map((id) => this.reconcileOne(id)));
      }
    } finally {
      this.reconciling = false;
    }
  }

  private async reconcileOne(payoutId: string): Promise<void> {
    // A store that cannot answer must not stop the safety net for lost webhooks: read then.
    const claim = this.deps.claimReconcile ? await this.deps.claimReconcile(payoutId).catch(() => UNCLAIMED) : UNCLAIMED;
    if (claim !== undefined) {
      const refreshed = await this.deps.refresh(payoutId).catch(async (err: unknown) => {
        await claim.release().catch(() => undefined);
        this.deps.log.debug({ err: String(err), payoutId }, 'reconcile failed; will retry next interval');
        return undefined;
      });
      if (refreshed) {
        this.deliver(refreshed.payout);
        // Other instances' subscribers learn it too (if this publish fails, from the store next interval).
        if (refreshed.advanced) await this.deps.bus.publish(refreshed.payout).catch(() => undefined);
        return;
      }
    }
    // Another instance reads it this interval, or ZoPay could not be read here (5xx, the breaker open,
    // the read budget spent) or does not find it. What the store knows may still be news here (a webhook
    // recorded elsewhere whose publish never reached this instance): one store read, no ZoPay call.
    const known = await this.deps.known(payoutId).catch(() => undefined);
    if (known) this.deliver(known);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stopResync();
    const topics = [...this.topics.values()];
    this.topics.clear();
    await Promise.all(topics.map((t) => t.subscription.then((u) => u()).catch(() => undefined)));
  }
}
