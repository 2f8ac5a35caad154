import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../sandbox/rate-limit.js';
import { call, manualClock, sandboxFor } from './helpers.js';

const LIST = { path: '/api/v1/disbursements' } as const;

describe('rate limiting', () => {
  it('answers 429 with retry_after and Retry-After once the per-minute limit is spent', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now, rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await call(sb, LIST, clock.t)).status).toBe(200);
    clock.advance(20_000);
    const r = await call(sb, LIST, clock.t);
    expect(r.status).toBe(429);
    expect(r.headers['retry_after']).toBe('40');
    expect(r.headers['retry-after']).toBe('40');
    expect(r.json).toEqual({ error: 'Too Many Requests', message: 'Rate limit exceeded', code: 'RATE_LIMITED' });
  });

  it('opens a new window after 60 seconds', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now, rateLimitPerMinute: 2 });
    await call(sb, LIST, clock.t);
    await call(sb, LIST, clock.t);
    expect((await call(sb, LIST, clock.t)).status).toBe(429);
    clock.advance(60_000);
    expect((await call(sb, LIST, clock.t)).status).toBe(200);
  });

  it('uses 100 requests per minute by default', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const statuses = await Promise.all(Array.from({ length: 101 }, () => call(sb, LIST, clock.t).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  });

  it('does not count requests that fail authentication', async () => {
    const sb = await sandboxFor({ rateLimitPerMinute: 1 });
    for (let i = 0; i < 3; i++) expect((await call(sb, { ...LIST, secret: 'wrong' })).status).toBe(401);
    expect((await call(sb, LIST)).status).toBe(200);
  });

  it('drops expired windows so idle keys cost no memory', () => {
    const limiter = createRateLimiter(5, 1_000);
    limiter.take('a', 0);
    limiter.take('b', 10);
    expect(limiter.size()).toBe(2);
    limiter.take('c', 1_010);
    expect(limiter.size()).toBe(1);
  });
});
