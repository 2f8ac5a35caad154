import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  checkEvictionPolicy,
  createRedisConnection,
  ensureNoEviction,
  isRedisUnavailableError,
  RedisConfigError,
  waitForReady,
} from '../../src/lib/redis.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';

describe('Redis connection', () => {
  let server: RedisServerHandle;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = createRedisConnection(server.url, { name: 'conn-test', role: 'command', onError: () => undefined });
    await waitForReady(redis, 5_000);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('names the connection so operators can find it in CLIENT LIST', async () => {
    await expect(redis.client('GETNAME')).resolves.toBe('conn-test');
  });

  it('accepts noeviction and refuses any eviction policy (T17)', async () => {
    await expect(checkEvictionPolicy(redis)).resolves.toEqual({ policy: 'noeviction', ok: true });
    const admin = server.client();
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(checkEvictionPolicy(redis)).resolves.toEqual({ policy: 'allkeys-lru', ok: false });
      await expect(ensureNoEviction(redis, { mode: 'refuse' })).rejects.toBeInstanceOf(RedisConfigError);
      const warn = vi.fn();
      await expect(ensureNoEviction(redis, { mode: 'warn', warn })).resolves.toMatchObject({ ok: false });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('allkeys-lru'));
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('rejects at once, without queueing, when the server is unreachable, and reports the connection error', async () => {
    const errors: Error[] = [];
    const dead = createRedisConnection('redis://127.0.0.1:1', { name: 'dead', role: 'command', onError: (e) => errors.push(e) });
    try {
      const started = Date.now();
      const err = await dead.ping().catch((e: unknown) => e);
      expect(isRedisUnavailableError(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(200);
      await expect(waitForReady(dead, 300)).rejects.toThrow(/not ready/);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      dead.disconnect();
    }
  });

  it('warns once per outage by default, not once per reconnect attempt', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const dead = createRedisConnection('redis://127.0.0.1:1', { name: 'dead-default', role: 'subscriber' });
    try {
      await new Promise((r) => setTimeout(r, 800));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(/\[redis:dead-default\] connection error/);
    } finally {
      dead.disconnect();
      warn.mockRestore();
    }
  });

  it('tells unavailability apart from command bugs', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    expect(isRedisUnavailableError(reply('OOM command not allowed when used memory > maxmemory'))).toBe(true);
    expect(isRedisUnavailableError(reply('LOADING Redis is loading the dataset in memory'))).toBe(true);
    expect(isRedisUnavailableError(reply('READONLY You can not write against a read only replica.'))).toBe(true);
    expect(isRedisUnavailableError(reply('ERR user_script:1: bad'))).toBe(false);
    expect(isRedisUnavailableError(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisUnavailableError(new TypeError('bad argument'))).toBe(false);
    expect(isRedisUnavailableError('not an error')).toBe(false);
  });
});
