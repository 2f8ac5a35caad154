import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisClock } from '../../src/lib/redis-clock.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';

type Line = { level: 'warn' | 'error' | 'info'; fields: unknown; msg: string };
const capture = () => {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: unknown, msg?: string) => void lines.push({ level, fields, msg: msg ?? '' });
  return { lines, log: { warn: at('warn'), error: at('error'), info: at('info') } as never };
};

describe('the shared clock (Redis TIME plus the local clock)', () => {
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

  it("reads Redis's time from an instance whose clock is 10 minutes ahead, and says so at error level", async () => {
    const { lines, log } = capture();
    const clock = await createRedisClock({ redis: client, local: { now: () => Date.now() + 600_000 }, log });
    try {
      expect(Math.abs(clock.offsetMs() + 600_000)).toBeLessThan(200);
      expect(Math.abs(clock.now() - Date.now())).toBeLessThan(200);
      expect(lines.map((l) => l.level)).toEqual(['error']);
      // Measured again with the same offset: not logged again.
      await clock.sync();
      expect(lines).toHaveLength(1);
    } finally {
      clock.stop();
    }
  });

  it('warns below ZoPay’s 5-minute window, keeps quiet within a second, and says when the clocks agree again', async () => {
    const { lines, log } = capture();
    let skew = 30_000;
    const clock = await createRedisClock({ redis: client, local: { now: () => Date.now() + skew }, log });
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

  it('keeps the shortest round trip of its samples and its last offset when Redis cannot answer', async () => {
    const { lines, log } = capture();
    let local = 1_000_000;
    // Redis is 5 s ahead. The first sample's answer is slow (40 ms), the second quick (2 ms).
    const answers = [
      { redisMs: 1_005_030, rtt: 40 },
      { redisMs: 1_005_041, rtt: 2 },
      { redisMs: 1_005_080, rtt: 30 },
    ];
    let fail = false;
    const fake = {
      time: async () => {
        if (fail) throw new Error('Connection is closed.');
        const a = answers.shift() ?? { redisMs: local + 5_000, rtt: 2 };
        local += a.rtt;
        return [String(Math.floor(a.redisMs / 1000)), String((a.redisMs % 1000) * 1000)] as [string, string];
      },
    };
    const clock = await createRedisClock({ redis: fake as never, local: { now: () => local }, log });
    try {
      // The second sample: sent at 1,000,040, answered at 1,000,042, Redis said 1,005,041.
      expect(clock.offsetMs()).toBe(5_000);
      fail = true;
      await clock.sync();
      expect(clock.offsetMs()).toBe(5_000);
      expect(clock.now()).toBe(local + 5_000);
      expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']);
      expect(lines[1]?.msg).toContain('could not read Redis TIME');
    } finally {
      clock.stop();
    }
  });
});
