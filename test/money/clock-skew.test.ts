import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { spawnGateway, type GatewayProcess } from '../helpers/process.js';
import { EXECUTE, QUOTE, TEST_JWT_SECRET, executeUntilPayout, gql, quoteInput } from '../helpers/gateway.js';
import { mintToken } from '../../src/auth/tokens.js';
import { until } from '../helpers/subscribe.js';
import { startSwallowingProxy } from '../helpers/swallowing-proxy.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';

/**
 * Attack case T50: one instance's wall clock is 10 minutes ahead, and ZoPay (the sandbox) enforces its
 * ±5 minute window on `x-zo-timestamp`. Both instances share one Redis, as in production.
 */
let redis: RedisServerHandle;
let sandbox: Sandbox;
let token: string;
let onTime: GatewayProcess;
let ahead: GatewayProcess;
/** Between the instance that is ahead and ZoPay: passes everything on, unless told to swallow an execute. */
let proxy: Awaited<ReturnType<typeof startSwallowingProxy>>;

// Short deadlines, so a lock (deadline + 5 s) lasts 8 s.
const env = () => ({
  PORT: '0',
  LOG_LEVEL: 'info',
  REDIS_URL: redis.url,
  ZOPAY_BASE_URL: sandbox.url,
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
  ZOPAY_OPERATION_DEADLINE_MS: '3000',
  ZOPAY_REQUEST_TIMEOUT_MS: '3000',
});

beforeAll(async () => {
  redis = await startRedis();
  sandbox = await startSandbox({ port: 0, rateLimitPerMinute: 100_000, webhookUrl: null });
  token = await mintToken(TEST_JWT_SECRET, { sub: 'skew-app', scope: 'payouts:write payouts:read' });
  proxy = await startSwallowingProxy(sandbox.url);
  [onTime, ahead] = await Promise.all([
    spawnGateway(env()),
    spawnGateway({ ...env(), ZOPAY_BASE_URL: proxy.url, TEST_CLOCK_SKEW_MS: String(10 * 60_000) }, 20_000, ['./test/helpers/skewed-clock.ts']),
  ]);
}, 60_000);
afterAll(async () => {
  for (const gw of [onTime, ahead]) gw?.child.kill('SIGTERM');
  await Promise.all([onTime?.exited, ahead?.exited]);
  await proxy?.close();
  await sandbox.close();
  await redis.stop();
});

/** Complete log lines containing `marker`, parsed (the last line may still be arriving through the pipe). */
function logLines<T>(gw: GatewayProcess, marker: string): T[] {
  return gw
    .output()
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.includes(marker))
    .map((line) => JSON.parse(line) as T);
}
const refusals = (gw: GatewayProcess) =>
  logLines<{ level: number | string; operation: string; err: { code: string; httpStatus: number } }>(gw, 'ZoPay refused the gateway itself');

describe('a gateway whose clock is 10 minutes ahead (T50)', () => {
  it('is refused by ZoPay once per call, says so in its log, answers UPSTREAM_UNAVAILABLE retry-safe, pays nothing and does not lock the caller out elsewhere', async () => {
    const msisdn = '+237670000007';
    // A quote made through the instance with the right clock; 15 minutes valid, so still valid by the other's clock.
    const q = await gql<{ createQuote: { __typename: string; id: string } }>(onTime.url, QUOTE, quoteInput(msisdn), token);
    expect(q.data?.createQuote.__typename).toBe('Quote');
    const input = { quoteId: q.data?.createQuote.id, idempotencyKey: 'skew-1', recipient: { msisdn } };

    const refused = await gql(ahead.url, EXECUTE, { input }, token);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_UNAVAILABLE', retrySafe: true }]);
    expect(sandbox.ledger.payouts().filter((p) => p.quoteId === input.quoteId)).toHaveLength(0);

    const quoteAhead = await gql(ahead.url, QUOTE, quoteInput(msisdn), token);
    expect(quoteAhead.errors?.map((e) => e.extensions?.['code'])).toEqual(['UPSTREAM_UNAVAILABLE']);

    // One refusal per operation, each logged at error level with ZoPay's status: no blind retry.
    await until(() => refusals(ahead).length >= 2, 5_000, 'both refusals logged').catch((err: unknown) => {
      throw new Error(`${String(err)}\n${ahead.output()}`);
    });
    const logged = refusals(ahead);
    expect(logged.map((r) => [r.operation, r.err.code, r.err.httpStatus])).toEqual([
      ['execute', 'ZOPAY_AUTHENTICATION', 401],
      ['quote', 'ZOPAY_AUTHENTICATION', 401],
    ]);
    expect(logged.every((r) => r.level === 50 || r.level === 'error')).toBe(true);
    expect(refusals(onTime)).toEqual([]);
    // At start-up the instance measured its clock against Redis's and said so, loudly; the other did not.
    const clockAlerts = (gw: GatewayProcess) => logLines<{ level: number; offsetMs: number }>(gw, "clock is more than 5 minutes off Redis's");
    const [alert, ...more] = clockAlerts(ahead);
    expect(more).toEqual([]);
    expect(alert?.level).toBe(50);
    expect(Math.abs((alert?.offsetMs ?? 0) + 600_000)).toBeLessThan(1_000);
    expect(clockAlerts(onTime)).toEqual([]);

    // Nothing was paid and the key was given back: the instance with the right clock executes it once.
    // (It is not rate limited either: the skewed instance stamped the caller's shared limiter with
    // Redis's time, not with its own, which would have locked the caller out for ten minutes.)
    const paid = await gql<{ executeDisbursement: { __typename: string; id: string } }>(onTime.url, EXECUTE, { input }, token);
    expect(paid.errors, JSON.stringify(paid.errors)).toBeUndefined();
    expect(paid.data?.executeDisbursement.__typename).toBe('Payout');
    const atZoPay = sandbox.ledger.payouts().filter((p) => p.quoteId === input.quoteId);
    expect(atZoPay.map((p) => p.id)).toEqual([paid.data?.executeDisbursement.id]);
  }, 60_000);
  it("holds a key it claimed for the lock's time in Redis's clock, not ten minutes longer", async () => {
    const msisdn = '+237670000008';
    const q = await gql<{ createQuote: { __typename: string; id: string } }>(onTime.url, QUOTE, quoteInput(msisdn), token);
    const input = { quoteId: q.data?.createQuote.id, idempotencyKey: 'skew-lock', recipient: { msisdn } };

    // The instance that is ahead claims the key, sends the execute (swallowed: ZoPay never sees it) and
    // dies holding the lock.
    proxy.swallowNextExecute();
    const before = proxy.executes.length;
    const inFlight = gql(ahead.url, EXECUTE, { input }, token).catch(() => 'connection lost');
    await until(() => proxy.executes.length === before + 1, 5_000, 'the execute reached the proxy');
    const killedAt = Date.now();
    ahead.child.kill('SIGKILL');
    expect(await inFlight).toBe('connection lost');

    // Its lock was stamped with Redis's time: the other instance resumes the key once 8 s have passed.
    const { result: paid, seen } = await executeUntilPayout(onTime.url, { input }, token, 30_000 - (Date.now() - killedAt));
    expect(seen).toEqual(['IdempotencyKeyInProgressError', 'Payout']);
    const atZoPay = sandbox.ledger.payouts().filter((p) => p.quoteId === input.quoteId);
    expect(atZoPay.map((p) => p.id)).toEqual([paid?.id]);
  }, 60_000);
});
