import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { spawnGateway } from '../helpers/process.js';
import { EXECUTE, QUOTE, TEST_JWT_SECRET, executeUntilPayout, gql, quoteInput } from '../helpers/gateway.js';
import { mintToken } from '../../src/auth/tokens.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { until } from '../helpers/subscribe.js';
import { startSwallowingProxy } from '../helpers/swallowing-proxy.js';

let redis: RedisServerHandle;
let sandbox: Sandbox;
let token: string;

const env = () => ({
  PORT: '0',
  LOG_LEVEL: 'info',
  REDIS_URL: redis.url,
  ZOPAY_BASE_URL: sandbox.url,
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
  ZOPAY_OPERATION_DEADLINE_MS: '3000',
  ZOPAY_REQUEST_TIMEOUT_MS: '1000',
  IDEMPOTENCY_LOCK_TTL_MS: '8000',
});

beforeAll(async () => {
  redis = await startRedis({ persistent: true });
  sandbox = await startSandbox({ port: 0, rateLimitPerMinute: 100_000, webhookUrl: null });
  token = await mintToken(TEST_JWT_SECRET, { sub: 'crash-app', scope: 'payouts:write' });
});
afterAll(async () => {
  await sandbox.close();
  await redis.stop();
});

describe('a gateway killed mid-execute', () => {
  it('yields the same single payout when the client retries after a restart', async () => {
    const first = await spawnGateway(env());
    const q = await gql<{ createQuote: { id: string } }>(first.url, QUOTE, quoteInput('+237670000005'), token);
    const quoteId = q.data?.createQuote.id as string;

    // ZoPay commits the payout but the answer never comes; the gateway dies while waiting.
    sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 100 });
    const inFlight = gql(first.url, EXECUTE, { input: { quoteId, idempotencyKey: 'crash-1', recipient: { msisdn: '+237670000005' } } }, token).catch(() => 'connection lost');
    await until(() => sandbox.ledger.payouts().some((p) => p.quoteId === quoteId), 5_000, 'payout committed at ZoPay');
    first.child.kill('SIGKILL');
    expect(await inFlight).toBe('connection lost');
    await first.exited;
    sandbox.faults.clear();

    const second = await spawnGateway(env());
    try {
      let result: { __typename: string; id?: string; retryAfter?: number } | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const res = await gql<{ executeDisbursement: { __typename: string; id?: string; retryAfter?: number } }>(
          second.url,
          `mutation($input: ExecuteDisbursementInput!) { executeDisbursement(input: $input) { __typename ... on Payout { id } ... on IdempotencyKeyInProgressError { retryAfter } } }`,
          { input: { quoteId, idempotencyKey: 'crash-1', recipient: { msisdn: '+237670000005' } } },
          token,
        );
        result = res.data?.executeDisbursement;
        if (result?.__typename === 'Payout') break;
        expect(result?.__typename).toBe('IdempotencyKeyInProgressError'); // the dead instance's lock, until it expires
        await new Promise((r) => setTimeout(r, 500));
      }
      const atZoPay = sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
      expect(atZoPay).toHaveLength(1);
      expect(result).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});

describe('a gateway killed after claiming the key, before ZoPay received the execute (T11)', () => {
  it('re-executes with the same upstream key once the lock expires: one payout, then replays of it', async () => {
    const proxy = await startSwallowingProxy(sandbox.url);
    // A lock long enough that the restarted instance (tsx start-up included) always asks while it holds.
    const proxied = () => ({ ...env(), ZOPAY_BASE_URL: proxy.url, IDEMPOTENCY_LOCK_TTL_MS: '15000' });
    const input = (quoteId: string) => ({ input: { quoteId, idempotencyKey: 'crash-2', recipient: { msisdn: '+237670000006' } } });
    const first = await spawnGateway(proxied());
    let second: Awaited<ReturnType<typeof spawnGateway>> | undefined;
    try {
      const q = await gql<{ createQuote: { id: string } }>(first.url, QUOTE, quoteInput('+237670000006'), token);
      const quoteId = q.data?.createQuote.id as string;
      expect(quoteId).toBeTruthy();

      proxy.swallowNextExecute();
      const inFlight = gql(first.url, EXECUTE, input(quoteId), token).catch(() => 'connection lost');
      await until(() => proxy.executes.length === 1, 5_000, 'the execute reached the proxy');
      first.child.kill('SIGKILL');
      expect(await inFlight).toBe('connection lost');
      await first.exited;
      expect(sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(0);

      second = await spawnGateway(proxied());
      const gw = second;
      const { result, seen } = await executeUntilPayout(gw.url, input(quoteId), token, 40_000);
      // The dead instance's lock holds the key until it expires; nothing else is answered meanwhile.
      expect(seen).toEqual(['IdempotencyKeyInProgressError', 'Payout']);
      const atZoPay = sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
      expect(atZoPay).toHaveLength(1);
      expect(result).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
      // The resumed call carried the upstream key the lost one had.
      expect(proxy.executes).toHaveLength(2);
      expect(proxy.executes[1]).toEqual({ idempotencyKey: proxy.executes[0]?.idempotencyKey, forwarded: true });

      const replay = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(gw.url, EXECUTE, input(quoteId), token);
      expect(replay.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
      expect(replay.extensions?.['idempotentReplay']).toBe(true);
      expect(proxy.executes).toHaveLength(2);
      expect(sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
      await proxy.close();
    }
  }, 60_000);
});

describe('Redis down during execute', () => {
  it('fails fast with a clear, retry-safe error that does not claim nothing was paid, and sends nothing to ZoPay', async () => {
    const gw = await spawnGateway(env());
    try {
      const q = await gql<{ createQuote: { id: string } }>(gw.url, QUOTE, quoteInput('+237670000005'), token);
      await redis.kill();
      const before = sandbox.requests.length;
      const started = Date.now();
      const res = await gql(gw.url, EXECUTE, { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'redis-down-1', recipient: { msisdn: '+237670000005' } } }, token);
      expect(Date.now() - started).toBeLessThan(2_500);
      // The key's record could not be read: an earlier attempt with it may have paid, so the outcome is
      // unknown, and the client is told to retry with the same key rather than start over with a new one.
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true });
      expect(res.errors?.[0]?.message).toMatch(/same idempotencyKey/);
      expect(sandbox.requests.length).toBe(before);
      expect(gw.child.exitCode).toBeNull();
      expect(gw.output()).not.toMatch(/unhandled|Unhandled/);
    } finally {
      await redis.restart();
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 30_000);
});
