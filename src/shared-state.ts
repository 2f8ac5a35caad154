import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './lib/logger.js';
import { createRedisConnection, ensureNoEviction, redisErrorCause, waitForReady } from './lib/redis.js';
import { createRedisClock, type RedisClock } from './lib/redis-clock.js';
import { createMemoryStores } from './stores/memory/index.js';
import { createRedisStores } from './stores/redis/index.js';
import type { Stores } from './stores/types.js';
import { createUpstreamBudget, type UpstreamBudget } from './stores/upstream-budget.js';
import { createMemoryEventBus } from './events/memory-bus.js';
import { createRedisEventBus } from './events/redis-bus.js';
import type { EventBus } from './events/types.js';

/** At most one 'redis connection error' line per connection role in this interval. */
const REDIS_ERROR_LOG_MS = 30_000;

/** Everything instances share: stores, the event bus and the upstream budget (Redis, or memory for one instance). */
export interface SharedState {
  stores: Stores;
  bus: EventBus;
  upstreamBudget: UpstreamBudget;
  /**
   * The time shared state is stamped with: Redis's (read from its TIME and counted on with the monotonic
   * clock, see redis-clock.ts), or the local clock for memory stores. The execute service judges a
   * quote's expiry on it, as the stores' scripts do.
   */
  clock: { now(): number };
  /**
   * Set when the stores and the bus share one Redis: the bus channel of a payout, on which the webhook
   * delivery store publishes an advance in the same script that records it.
   */
  deliveryChannel?: (payoutId: string) => string;
  /** Readiness: the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createSharedState(opts: {
  config: Config;
  clock: { now(): number };
  log: Logger;
  onRedisError?: (role: string) => void;
}): Promise<SharedState> {
  const { config, log } = opts;
  const budgetOf = (stores: Stores) =>
    createUpstreamBudget({
      limiter: stores.rateLimiter,
      limitPerMinute: config.zopay.rateLimitPerMinute,
      maxQueueMs: 2_000,
      sleep: (ms) => sleep(ms),
      // Deadlines are the host's time, and the budget compares its waits with them (its limiter stamps
      // the shared state with Redis's time).
      clock: opts.clock,
    });

  if (!config.redis.url) {
    const stores = createMemoryStores({ clock: opts.clock });
    const bus = createMemoryEventBus();
    return { stores, bus, upstreamBudget: budgetOf(stores), clock: opts.clock, ping: async () => true, close: () => bus.close() };
  }

  // ioredis reports every failed reconnect (about twice a second per connection during an outage): the
  // metric counts each one, the log says it once per role and then at most every REDIS_ERROR_LOG_MS,
  // with the cause (ECONNREFUSED, ETIMEDOUT; never the message) and how many it left out.
  const logged = new Map<string, { at: number; left: number }>();
  const onError = (role: string) => (err: Error) => {
    opts.onRedisError?.(role);
    const now = Date.now();
    const last = logged.get(role);
    if (last && now - last.at < REDIS_ERROR_LOG_MS) {
      last.left++;
      return;
    }
    const code = redisErrorCause(err);
    log.warn({ role, err: err.name, ...(code ? { code } : {}), ...(last?.left ? { repeated: last.left } : {}) }, 'redis connection error');
    logged.set(role, { at: now, left: 0 });
  };
  const command: Redis = createRedisConnection(config.redis.url, { name: 'zopay-gateway', role: 'command', onError: onError('command') });
  const subscriber: Redis = createRedisConnection(config.redis.url, { name: 'zopay-gateway-sub', role: 'subscriber', onError: onError('subscriber') });
  let clock: RedisClock;
  try {
    await waitForReady(command, 5_000);
    await ensureNoEviction(command, { mode: config.isProduction ? 'refuse' : 'warn', warn: (m) => log.warn(m) });
    // Every instance stamps shared state with Redis's time (see redis-clock.ts).
    clock = await createRedisClock({ redis: command, log, ready: () => command.status === 'ready' });
  } catch (err) {
    command.disconnect();
    subscriber.disconnect();
    throw err;
  }
  // A restarted or failed-over Redis may keep other time: read it again as soon as it is back.
  command.on('ready', () => void clock.sync());
  const stores = createRedisStores({ redis: command, prefix: config.redis.keyPrefix, clock });
  const bus = createRedisEventBus({
    publisher: command,
    subscriber,
    prefix: config.redis.keyPrefix,
    onMalformed: (channel) => log.warn({ channel }, 'malformed event dropped'),
    onListenerError: (err, payoutId) => log.warn({ err: String(err), payoutId }, 'event listener failed'),
  });
  return {
    stores,
    bus,
    upstreamBudget: budgetOf(stores),
    clock,
    // Same connection, same prefix: the store's PUBLISH reaches exactly the bus's subscribers.
    deliveryChannel: (payoutId) => bus.channelOf(payoutId),
    ping: async () => (await command.ping()) === 'PONG',
    close: async () => {
      clock.stop();
      await bus.close();
      command.disconnect();
      subscriber.disconnect();
    },
  };
}
