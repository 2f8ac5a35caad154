/**
 * A Redis that refuses the gateway's credentials: start-up fails saying why (Redis's error word,
 * WRONGPASS or NOAUTH), and the log line says it too. Before, the operator read only "ReplyError" and
 * "Redis not ready after 5000 ms". Neither the password nor the rest of Redis's message is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { createSharedState } from '../../src/shared-state.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { LogCapture } from '../security/support.js';

const PASSWORD = 'the-right-password-4f1c';
let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedis();
  await redis.client().config('SET', 'requirepass', PASSWORD);
});
afterAll(() => redis.stop());

describe('Redis refusing the gateway', () => {
  it.each([
    ['a wrong password', `redis://:wrong-password-9a2b@127.0.0.1:PORT`, 'WRONGPASS'],
    ['no password', `redis://127.0.0.1:PORT`, 'NOAUTH'],
  ])('%s: start-up fails naming the cause, and the log line carries it', async (_name, url, cause) => {
    const logs = new LogCapture();
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: url.replace('PORT', String(redis.port)) });
    const started = createSharedState({ config, clock: Date, log: createLogger({ level: 'info', destination: logs }) });
    await expect(started).rejects.toThrow(`Redis not ready after 5000 ms (last error: ${cause})`);
    const lines = logs.records().filter((r) => r['msg'] === 'redis connection error');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((r) => r['code'] === cause)).toBe(true);
    expect(logs.text()).not.toContain('wrong-password');
    expect(logs.text()).not.toContain('username-password pair');
  }, 15_000);
});
