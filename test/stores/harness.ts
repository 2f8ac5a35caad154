import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createRedisConnection, waitForReady } from '../../src/lib/redis.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Stores } from '../../src/stores/types.js';
import type { Payout } from '../../src/zopay/types.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';

/** Shared setup of the store contract tests: the same cases run against both implementations. */

export const IMPLEMENTATIONS = ['memory', 'redis'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 0, 15, 12)): FakeClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface StoreHarness {
  kind: Implementation;
  stores: Stores;
  clock: FakeClock;
  /** A second, independent set of stores on the same backing state (another instance). */
  otherInstance(): Promise<Stores>;
  /** Redis only. */
  server?: RedisServerHandle;
  prefix: string;
}

let prefixCounter = 0;

/**
 * Registers hooks that start a redis-server for the 'redis' flavour (one per describe block) and give
 * every test fresh stores under a fresh key prefix and a fake clock. Call inside a describe block.
 */
export function useStores(kind: Implementation): () => StoreHarness {
  let server: RedisServerHandle | undefined;
  const connections: Redis[] = [];
  let current: StoreHarness | undefined;

  const connect = (): Redis => {
    if (server === undefined) throw new Error('redis-server not started');
    const redis = createRedisConnection(server.url, { name: `test-${connections.length}`, role: 'command', onError: () => undefined });
    connections.push(redis);
    return redis;
  };

  beforeAll(async () => {
    if (kind !== 'redis') return;
    server = await startRedis();
    await waitForReady(connect(), 5_000);
  });

  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await server?.stop();
  });

  beforeEach(async () => {
    const clock = fakeClock();
    const prefix = `t${process.pid}-${++prefixCounter}:`;
    if (kind === 'memory') {
      const stores = createMemoryStores({ clock });
      current = { kind, stores, clock, prefix, otherInstance: async () => stores };
      return;
    }
    const first = connections[0];
    if (first === undefined) throw new Error('no Redis connection');
    current = {
      kind,
      clock,
      prefix,
      server,
      stores: createRedisStores({ redis: first, prefix, clock }),
      otherInstance: async () => {
        const redis = connect();
        await waitForReady(redis, 5_000);
        return createRedisStores({ redis, prefix, clock });
      },
    };
  });

  return () => {
    if (current === undefined) throw new Error('useStores: called outside a test');
    return current;
  };
}

export function payout(overrides: Partial<Payout> & Pick<Payout, 'id' | 'status'>): Payout {
  return { rawStatus: overrides.status, source: 'webhook', ...overrides };
}
