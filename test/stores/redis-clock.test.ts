import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisClock, RedisTimeUnavailableError } from '../../src/lib/redis-clock.js';
import { createSharedState } from '../../src/shared-state.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { BudgetExhaustedError } from '../../src/stores/errors.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { until } from '../helpers/subscribe.js';

type Line = { level: 'warn' | 'error' | 'info'; fields: unknown; msg: string };
const capture = () => {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: unknown, msg?: string) => void lines.push({ level, fields, msg: msg ?? '' });
  return { lines, log: { warn: at('warn'), error: at('error'), info: at('info') } as never };
};

/** A Redis stand-in whose TIME answers from `redisMs()` after advancing a fake monotonic clock by `rtt()`. */
function fakeRedis(state: { mono: number; redisMs: () => number; rtt: () => number; fail?: boolean }) {
  return {
    time: async () => {
      if (state.fail) throw new Error('ERR unknown command `TIME`');
      const half = state.rtt() / 2;
      state.mono += half;
      const ms = state.redisMs();
      state.mono += half;
      return [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)] as [string, string];
    },
  };
}

describe('the shared clock (Redis TIME, counted on with the monotonic clock)', () => {
  let redis: RedisServerHandle;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it("reads Redis's time on a host whose clock is 10 minutes ahead, and says so once, at error level", async () => {
    const { lines, log } = capture();
    const clock = await createRedisClock({ redis: client, wall: { now: () => Date.now() + 600_000 }, log });
    try {
      expect(Math.abs(clock.offsetMs() + 600_000)).toBeLessThan(200);
      expect(Math.abs(clock.now() - Date.now())).toBeLessThan(200);
      expect(lines.map((l) => l.level)).toEqual(['error']);
      await clock.sync();
      expect(lines).toHaveLength(1);
    } finally {
      clock.stop();
    }
  });

  it('warns below ZoPay’s 5-minute window, keeps quiet within a second, and says when the clocks agree again', async () => {
    const { lines, log } = capture();
    let skew = 30_000;
    const clock = await createRedisClock({ redis: client, wall: { now: () => Date.now() + skew }, log });
    try {
      expect(lines.map((l) => l.level)).toEqual(['warn']);
      skew = 0;
      await clock.sync();
      expect(Math.abs(clock.offsetMs())).toBeLessThan(200);
      expect(lines.map((l) => [l.level, l.msg])).toEqual([
        ['warn', expect.stringContaining("clock is off Redis's")],
        ['info', expect.stringContaining('agrees with Redis')],
      ]);
      skew = 300;
      await clock.sync();
      expect(lines).toHaveLength(2);
    } finally {
      clock.stop();
    }
  });

  it('keeps the shortest round trip, does not move when the host clock steps, and counts on when Redis cannot answer', async () => {
    const { lines, log } = capture();
    let wall = 1_000_000;
    const rtts = [40, 2, 30];
    // Redis's clock runs 5 s ahead of the host's wall clock, in step with the monotonic clock.
    const state = { mono: 0, redisMs: () => 1_005_000 + Math.round(state.mono), rtt: () => rtts.shift() ?? 2, fail: false };
    const clock = await createRedisClock({ redis: fakeRedis(state), wall: { now: () => wall + Math.round(state.mono) }, monotonic: () => state.mono, log });
    try {
      // The second sample (2 ms) is kept: Redis said 1,005,041 at monotonic 41.
      expect(clock.offsetMs()).toBe(5_000);
      expect(clock.now()).toBe(1_005_000 + state.mono);
      // The host's clock is stepped back 10 minutes (NTP): shared time does not move.
      wall -= 600_000;
      state.mono += 1_000;
      expect(clock.now()).toBe(1_005_000 + state.mono);
      state.fail = true;
      await clock.sync();
      expect(clock.now()).toBe(1_005_000 + state.mono);
      expect(lines.map((l) => [l.level, l.msg])).toEqual([
        ['warn', expect.stringContaining("clock is off Redis's")],
        ['warn', expect.stringContaining('could not read Redis TIME; the shared clock counts on from its last reading')],
      ]);
    } finally {
      clock.stop();
    }
  });

  it('skips a resync while the connection is down, quietly, and measures again once it is back', async () => {
    const { lines, log } = capture();
    let calls = 0;
    const state = { mono: 0, redisMs: () => 1_000_000 + Math.round(state.mono), rtt: () => 2 };
    const fake = fakeRedis(state);
    let ready = true;
    const counted = { time: async () => (calls++, fake.time()) };
    const clock = await createRedisClock({ redis: counted, wall: { now: () => 1_000_000 + Math.round(state.mono) }, monotonic: () => state.mono, log, ready: () => ready });
    try {
      expect(calls).toBe(3);
      ready = false;
      await clock.sync();
      await clock.sync();
      expect(calls).toBe(3);
      ready = true;
      await clock.sync();
      expect(calls).toBe(6);
      expect(lines).toEqual([]);
    } finally {
      clock.stop();
    }
  });

  it('refuses to start when Redis never answers TIME, after its tries', async () => {
    const { log } = capture();
    const state = { mono: 0, redisMs: () => 1_000, rtt: () => 2, fail: true };
    const started = createRedisClock({ redis: fakeRedis(state), log, startTries: 3, startRetryMs: 1 });
    await expect(started).rejects.toBeInstanceOf(RedisTimeUnavailableError);
    await expect(started).rejects.toThrow(/could not read Redis TIME \(ERR unknown command `TIME`\)/);
  });

  it('reads the time again as soon as the connection is back after Redis restarts (a failover may bring other time)', async () => {
    const own = await startRedis();
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: own.url });
    const state = await createSharedState({ config, clock: Date, log: createLogger({ level: 'silent' }) });
    const timeCalls = async () => {
      const stats = await own.client().info('commandstats');
      return Number(/cmdstat_time:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    try {
      expect(await timeCalls()).toBe(3); // the start: three samples
      await own.restart(); // a new server: its statistics start at zero
      // Long before the minute's resync: the reconnect itself reads the time.
      await until(async () => (await timeCalls()) === 3, 10_000, 'three TIME samples on the restarted server');
      expect(Math.abs(state.clock.now() - Date.now())).toBeLessThan(200);
    } finally {
      await state.close();
      await own.stop();
    }
  });

  it("gives the upstream budget the host's clock: a deadline 300 ms away is not waited past, whatever Redis's time", async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, ZOPAY_RATE_LIMIT_PER_MINUTE: '100' });
    const host = { now: () => Date.now() + 600_000 };
    const state = await createSharedState({ config, clock: host, log: createLogger({ level: 'silent' }) });
    try {
      expect(Math.abs(state.clock.now() - Date.now())).toBeLessThan(200);
      // Spend the whole budget (a burst of 100), then ask for one more slot with 300 ms left.
      for (let i = 0; i < 100; i++) await state.upstreamBudget.acquire(host.now() + 5_000);
      const started = Date.now();
      await expect(state.upstreamBudget.acquire(host.now() + 300)).rejects.toBeInstanceOf(BudgetExhaustedError);
      expect(Date.now() - started).toBeLessThan(300);
    } finally {
      await state.close();
    }
  });
});
