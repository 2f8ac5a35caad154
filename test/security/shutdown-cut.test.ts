/**
 * SIGTERM while an execute waits on a ZoPay that does not answer (Redis-backed, as deployed). The grace
 * period bounds the shutdown: once it has passed, the ZoPay call is cut, the execute marks its key's
 * record unknown before the store closes, the cut is logged, and the process exits. A retry with the same
 * key on another instance then resumes at once with the same upstream key: one payout. Before, the process
 * waited for the call's own timeout, long after the grace period, and logged nothing; and a first fix left
 * the record locked, so a retry waited and got IDEMPOTENCY_KEY_IN_PROGRESS (independent review).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { startGateway } from '../../src/gateway.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { EXECUTE } from '../helpers/gateway.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { MSISDN_OK, SECRETS, gql, quoteVia, spawnGatewayProcess, waitFor, type GatewayProcess } from './support.js';

const GRACE_MS = 1_000;
const HANG_MS = 12_000;

let sandbox: Sandbox;
let redis: RedisServerHandle;
let gateway: GatewayProcess;

beforeAll(async () => {
  redis = await startRedis();
  sandbox = await startSandbox({ port: 0, rateLimitPerMinute: 100_000, webhookUrl: null, apiKey: SECRETS.apiKey, apiSecret: SECRETS.apiSecret, webhookSecret: SECRETS.webhookSecret, allowedOrigins: [SECRETS.origin] });
  gateway = await spawnGatewayProcess(sandbox.url, {
    REDIS_URL: redis.url,
    SHUTDOWN_DRAIN_MS: '0',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    ZOPAY_REQUEST_TIMEOUT_MS: String(HANG_MS + 5_000),
    ZOPAY_OPERATION_DEADLINE_MS: String(HANG_MS + 10_000),
  });
}, 30_000);

afterAll(async () => {
  gateway.kill();
  await sandbox.close();
  await redis.stop();
});

describe('SIGTERM with a ZoPay call that does not answer', () => {
  it('exits soon after the grace period, cutting the call and saying so, instead of waiting for its timeout', async () => {
    const token = await mintToken(SECRETS.jwtSecret, { sub: 'shutdown-cut', scope: 'payouts:write', expiresInSeconds: 600 });
    const { url } = gateway;
    const quoteId = await quoteVia(url, token);
    sandbox.faults.inject({ route: 'execute', kind: 'slow', delayMs: HANG_MS, times: 1 });
    const executes = () => sandbox.requests.filter((r) => r.path === '/api/v1/disbursements/execute').length;
    const before = executes();
    const answer = gql(url, EXECUTE, { input: { quoteId, idempotencyKey: 'cut-1', recipient: { msisdn: MSISDN_OK } } }, token).catch((err: unknown) => err);
    await waitFor(() => executes() === before + 1, 5_000, 'the execute to reach ZoPay');

    const termAt = Date.now();
    gateway.child.kill('SIGTERM');
    const exit = await Promise.race([gateway.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), HANG_MS))]);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    expect(exit.code).toBe(0);
    expect(exit.at - termAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(exit.at - termAt).toBeLessThan(GRACE_MS + 3_000);
    // The client is answered before its connection closes: retry with the same key, the outcome unknown
    // (it got a bare socket close before, which a client could take for "nothing was sent").
    expect(await answer).toMatchObject({ errors: [{ extensions: { code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true } }] });
    const records = gateway
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => String(r['msg']).startsWith('ZoPay calls still in flight')).map((r) => [r['level'], r['cut'], r['executes']])).toEqual([[40, 1, 1]]);
    expect(records.filter((r) => r['level'] === 50)).toEqual([]);

    // The key's record says "unknown" (not "locked"): a retry need not wait for the lock to expire.
    const keys = await redis.client().keys('zopay:idem:*');
    expect(keys).toHaveLength(1);
    expect(await redis.client().hget(keys[0] as string, 'state')).toBe('unknown');

    // Another instance takes the retry at once and resumes with the same upstream key: one payout.
    const config = loadConfig({
      NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', REDIS_URL: redis.url, ZOPAY_API_KEY: SECRETS.apiKey, ZOPAY_API_SECRET: SECRETS.apiSecret,
      ZOPAY_ORIGIN: SECRETS.origin, ZOPAY_WEBHOOK_SECRET: SECRETS.webhookSecret, AUTH_JWT_SECRET: SECRETS.jwtSecret,
    });
    const other = await startGateway({ config, zopayBaseUrl: sandbox.url });
    try {
      const retriedAt = Date.now();
      const retried = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(other.url, EXECUTE, { input: { quoteId, idempotencyKey: 'cut-1', recipient: { msisdn: MSISDN_OK } } }, token);
      expect(Date.now() - retriedAt).toBeLessThan(HANG_MS);
      expect(retried.errors).toBeUndefined();
      expect(retried.data?.executeDisbursement.__typename).toBe('Payout');
      const executeRequests = sandbox.requests.filter((r) => r.route === 'execute');
      expect(executeRequests.length).toBeGreaterThanOrEqual(2);
      expect(new Set(executeRequests.map((r) => r.idempotencyKey)).size).toBe(1);
    } finally {
      await other.close();
    }
  }, 40_000);
});
