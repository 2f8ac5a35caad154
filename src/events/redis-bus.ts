import type { Redis } from 'ioredis';
import { waitForReady } from '../lib/redis.js';
import { decodePayout, encodePayout } from '../stores/payout-codec.js';
import { assertKeyPart } from '../stores/validate.js';
import type { Payout } from '../zopay/types.js';
import { EventBusUnavailableError } from './errors.js';
import { deliver, safeHook, type ListenerEntry } from './listeners.js';
import type { EventBus, EventBusHooks, EventBusStats, PayoutListener } from './types.js';

export interface RedisEventBusOptions extends EventBusHooks {
  /** Command connection used for PUBLISH (may be the stores' connection). */
  publisher: Redis;
  /**
   * Dedicated connection for SUBSCRIBE, from createRedisConnection(url, { role: 'subscriber' }): the bus
   * re-subscribes its channels itself after a reconnect, then fires onResync.
   */
  subscriber: Redis;
  /** Channel names are `${prefix}payout:${payoutId}`. */
  prefix: string;
  /** How long `subscribe` waits for a (re)connecting subscriber connection. Default 1 000 ms. */
  readyTimeoutMs?: number;
}

interface ChannelState {
  listeners: Set<ListenerEntry>;
  /** The server has acknowledged SUBSCRIBE on the current connection. */
  subscribed: boolean;
  /** (Un)subscribe steps of this channel run one after another. */
  chain: Promise<void>;
}

/**
 * Redis pub/sub fan-out: one publish and one subscriber connection per instance, one channel per
 * watched payout however many local listeners it has.
 */
export class RedisEventBus implements EventBus {
  private readonly channels = new Map<string, ChannelState>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly counters = { malformed: 0, listenerErrors: 0, resyncs: 0 };
  private readonly readyTimeoutMs: number;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private closed = false;
  private everReady: boolean;

  constructor(private readonly opts: RedisEventBusOptions) {
    if (!/^[A-Za-z0-9:_-]{0,64}$/.test(opts.prefix)) throw new TypeError('Invalid Redis channel prefix');
    this.pub = opts.publisher;
    this.sub = opts.subscriber;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 1_000;
    this.everReady = this.sub.status === 'ready';
    this.sub.on('message', this.onMessage);
    this.sub.on('close', this.onClose);
    this.sub.on('ready', this.onReady);
  }

  channelOf(payoutId: string): string {
    return `${this.opts.prefix}payout:${payoutId}`;
  }

  async publish(payout: Payout): Promise<void> {
    const json = encodePayout(payout);
    if (this.closed) throw new EventBusUnavailableError('publish', new Error('event bus closed'));
    try {
      await this.pub.publish(this.channelOf(payout.id), json);
    } catch (err) {
      throw new EventBusUnavailableError('publish', err);
    }
  }

  async subscribe(payoutId: string, listener: PayoutListener): Promise<() => Promise<void>> {
    assertKeyPart('payoutId', payoutId);
    if (this.closed) throw new EventBusUnavailableError('subscribe', new Error('event bus closed'));
    const channel = this.channelOf(payoutId);
    let state = this.channels.get(channel);
    if (state === undefined) {
      state = { listeners: new Set(), subscribed: false, chain: Promise.resolve() };
      this.channels.set(channel, state);
    }
    const entry: ListenerEntry = { listener };
    state.listeners.add(entry);
    const current = state;
    try {
      await this.sync(channel, current);
    } catch (err) {
      current.listeners.delete(entry);
      this.sync(channel, current).catch(() => undefined);
      throw err instanceof EventBusUnavailableError ? err : new EventBusUnavailableError('subscribe', err);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      current.listeners.delete(entry);
      // A failed UNSUBSCRIBE means the connection is gone, and the server's subscription with it.
      await this.sync(channel, current).catch(() => undefined);
    };
  }

  onResync(listener: () => void): () => void {
    const wrapped = () => listener();
    this.resyncListeners.add(wrapped);
    return () => void this.resyncListeners.delete(wrapped);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resyncListeners.clear();
    const pending = [...this.channels].map(([channel, state]) => {
      state.listeners.clear();
      return this.sync(channel, state);
    });
    await Promise.allSettled(pending);
    this.sub.off('message', this.onMessage);
    this.sub.off('close', this.onClose);
    this.sub.off('ready', this.onReady);
  }

  stats(): EventBusStats {
    let listeners = 0;
    for (const state of this.channels.values()) listeners += state.listeners.size;
    return { channels: this.channels.size, listeners, ...this.counters };
  }

  private sync(channel: string, state: ChannelState): Promise<void> {
    const step = state.chain.then(() => this.reconcile(channel, state));
    state.chain = step.catch(() => undefined);
    return step;
  }

  /** Brings the server's subscription of `channel` in line with whether it has listeners. */
  private async reconcile(channel: string, state: ChannelState): Promise<void> {
    const wanted = !this.closed && state.listeners.size > 0;
    if (wanted && !state.subscribed) {
      try {
        await waitForReady(this.sub, this.readyTimeoutMs);
        await this.sub.subscribe(channel);
      } catch (err) {
        throw new EventBusUnavailableError('subscribe', err);
      }
      state.subscribed = true;
    } else if (!wanted && state.subscribed) {
      // No longer known to be live, whatever the UNSUBSCRIBE's fate: one that timed out (a hung Redis)
      // still runs when the server resumes. Left "subscribed", the channel would take the next listener
      // without a SUBSCRIBE and deliver it nothing; now that listener subscribes again (SUBSCRIBE is
      // idempotent, and it runs after the UNSUBSCRIBE on the same connection).
      state.subscribed = false;
      try {
        if (this.sub.status === 'ready') await this.sub.unsubscribe(channel);
      } finally {
        this.forgetIfIdle(channel, state);
      }
      return;
    }
    this.forgetIfIdle(channel, state);
  }

  private forgetIfIdle(channel: string, state: ChannelState): void {
    if (state.listeners.size === 0 && !state.subscribed && this.channels.get(channel) === state) {
      this.channels.delete(channel);
    }
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const state = this.channels.get(channel);
    if (state === undefined || state.listeners.size === 0) return;
    const payout = decodePayout(message);
    if (payout === undefined || this.channelOf(payout.id) !== channel) {
      this.counters.malformed++;
      safeHook(this.opts.onMalformed, channel);
      return;
    }
    deliver(state.listeners, payout, (err) => {
      this.counters.listenerErrors++;
      safeHook(this.opts.onListenerError, err, payout.id);
    });
  };

  /** The server drops a connection's subscriptions with it. */
  private readonly onClose = (): void => {
    for (const state of this.channels.values()) state.subscribed = false;
  };

  private readonly onReady = (): void => {
    if (!this.everReady) {
      this.everReady = true;
      return;
    }
    void this.resync();
  };

  /** After a reconnect: subscribe every watched channel again, then tell listeners to re-read. */
  private async resync(): Promise<void> {
    const results = await Promise.allSettled([...this.channels].map(([channel, state]) => this.sync(channel, state)));
    if (this.closed) return;
    if (results.some((r) => r.status === 'rejected')) {
      // Some channel is not live: reconnect and try again rather than report a resync that is not.
      if (this.sub.status === 'ready') this.sub.disconnect(true);
      return;
    }
    this.counters.resyncs++;
    for (const listener of [...this.resyncListeners]) {
      try {
        listener();
      } catch (err) {
        safeHook(this.opts.onResyncError, err);
      }
    }
  }
}

export function createRedisEventBus(opts: RedisEventBusOptions): RedisEventBus {
  return new RedisEventBus(opts);
}
