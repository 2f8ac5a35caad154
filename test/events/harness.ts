import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createMemoryEventBus } from '../../src/events/memory-bus.js';
import { createRedisEventBus } from '../../src/events/redis-bus.js';
import type { EventBus, EventBusHooks } from '../../src/events/types.js';
import { createRedisConnection, waitForReady } from '../../src/lib/redis.js';
import type { Payout } from '../../src/zopay/types.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';

export const BUS_IMPLEMENTATIONS = ['memory', 'redis'] as const;
export type BusImplementation = (typeof BUS_IMPLEMENTATIONS)[number];

export const PREFIX = 'bus:';

export interface BusHarness {
  /** A new bus instance (Redis: its own publisher and subscriber connections on the shared server). */
  bus(hooks?: EventBusHooks): Promise<EventBus>;
  /** Redis only. */
  server(): RedisServerHandle;
  /** A raw command connection (Redis only), e.g. to publish garbage. */
  raw(): Promise<Redis>;
}

/** Registers hooks that start one redis-server per describe block and close every bus after each test. */
export function useBuses(kind: BusImplementation): BusHarness {
  let server: RedisServerHandle | undefined;
  const connections: Redis[] = [];
  const buses: EventBus[] = [];

  const connect = async (role: 'command' | 'subscriber'): Promise<Redis> => {
    if (server === undefined) throw new Error('redis-server not started');
    const redis = createRedisConnection(server.url, { name: `bus-${role}-${connections.length}`, role, onError: () => undefined });
    connections.push(redis);
    await waitForReady(redis, 5_000);
    return redis;
  };

  beforeAll(async () => {
    if (kind === 'redis') server = await startRedis();
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    for (const c of connections.splice(0)) c.disconnect();
  });

  afterAll(async () => {
    await server?.stop();
  });

  return {
    async bus(hooks = {}) {
      const bus =
        kind === 'memory'
          ? createMemoryEventBus(hooks)
          : createRedisEventBus({ publisher: await connect('command'), subscriber: await connect('subscriber'), prefix: PREFIX, ...hooks });
      buses.push(bus);
      return bus;
    },
    server() {
      if (server === undefined) throw new Error('redis-server not started');
      return server;
    },
    raw: () => connect('command'),
  };
}

export function payout(id: string, status: Payout['status']): Payout {
  return { id, status, rawStatus: status, source: 'webhook' };
}

/** Collects what a listener receives. */
export function recorder() {
  const received: Payout[] = [];
  return { received, listener: (p: Payout) => void received.push(p) };
}
