import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';
import type { ZoPayClientOptions } from '../../src/zopay/client-options.js';
import { ZoPayClient } from '../../src/zopay/client.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import {
  ZoPayAuthenticationError,
  ZoPayConflictError,
  ZoPayError,
  ZoPayForbiddenError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayNotFoundError,
  ZoPayRateLimitError,
  ZoPayTimeoutError,
} from '../../src/zopay/errors.js';
import { createUndiciTransport } from '../../src/zopay/transport.js';
import type { CreateQuoteRequest } from '../../src/zopay/types.js';

/** The whole client (signing, retries, error mapping, wire parsing) against the ZoPay simulator. */

const SUCCESS_MSISDN = '+237670000001';
const FAILED_MSISDN = '+237670000003';
const QUOTE: CreateQuoteRequest = { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipientMsisdn: SUCCESS_MSISDN };
const CREDENTIALS = { apiKey: SANDBOX_DEFAULTS.apiKey, apiSecret: SANDBOX_DEFAULTS.apiSecret, origin: SANDBOX_DEFAULTS.origin };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A clock both sides share, so tests can move time (quote expiry) without waiting. */
function shiftableClock() {
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  return clock;
}

async function setup(sandboxOpts: SandboxOptions = {}, clientOpts: Partial<ZoPayClientOptions> = {}) {
  const clock = shiftableClock();
  const sandbox: Sandbox = await startSandbox({ port: 0, webhookUrl: null, rateLimitPerMinute: 1_000, now: clock.now, ...sandboxOpts });
  cleanups.push(() => sandbox.close());
  const zopay = client(sandbox, { clock, ...clientOpts });
  return { sandbox, zopay, clock };
}

function client(sandbox: Sandbox, over: Partial<ZoPayClientOptions> = {}) {
  const transport = createUndiciTransport({ baseUrl: sandbox.url, connectTimeoutMs: 1_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000 });
  cleanups.push(() => transport.close());
  return new ZoPayClient({ transport, credentials: CREDENTIALS, policy: { baseDelayMs: 10, maxDelayMs: 50 }, ...over });
}

async function failure(p: Promise<unknown>): Promise<ZoPayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ZoPayError) return err;
    throw err;
  }
  throw new Error('expected a ZoPay error');
}

const executeRequests = (sandbox: Sandbox) => sandbox.requests.filter((r) => r.route === 'execute');

describe('ZoPayClient against the sandbox: the payout journey', () => {
  it('quotes, executes, reads and lists a payout', async () => {
    const { sandbox, zopay } = await setup();
    const quote = await zopay.createQuote(QUOTE);
    expect(quote).toMatchObject({ gateway: 'MTN_MOMO', currency: 'XAF', recipientMsisdn: SUCCESS_MSISDN });
    expect(Date.parse(quote.expiresAt)).toBeGreaterThan(Date.now());
    const stored = sandbox.ledger.quotes().find((q) => q.id === quote.id);
    expect(quote.merchantDebit).toBe(stored?.totalDebit);

    const executed = await zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'journey-1', recipientMsisdn: SUCCESS_MSISDN });
    expect(executed).toMatchObject({ status: 'PROCESSING', source: 'execute' });
    expect(executed.correlationId).toBeTruthy();

    const read = await zopay.getPayout(executed.id);
    expect(read).toMatchObject({ id: executed.id, status: 'SUCCESS', recipientMsisdn: SUCCESS_MSISDN, source: 'get', failure: null });
    expect(read.totalAmount).toBe(sandbox.ledger.payout(executed.id)?.totalAmount);

    const page = await zopay.listPayouts({ limit: 500, offset: 0, status: 'SUCCESS' });
    expect(page.limit).toBe(100);
    expect(page.payouts.map((p) => p.id)).toContain(executed.id);
    expect(sandbox.requests.every((r) => r.status !== 401)).toBe(true);
  });

  it('reads a failed payout with its normalised failure', async () => {
    const { zopay } = await setup();
    const quote = await zopay.createQuote({ ...QUOTE, recipientMsisdn: FAILED_MSISDN });
    const executed = await zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'fails-1', recipientMsisdn: FAILED_MSISDN });
    const read = await zopay.getPayout(executed.id);
    expect(read.status).toBe('FAILED');
    expect(read.failure?.message).toBeTruthy();
  });
});

describe('ZoPayClient against the sandbox: every error class', () => {
  it('401 for a wrong secret, never retried', async () => {
    const { sandbox } = await setup();
    const zopay = client(sandbox, { credentials: { ...CREDENTIALS, apiSecret: 'wrong-secret' } });
    const err = await failure(zopay.createQuote(QUOTE));
    expect(err).toBeInstanceOf(ZoPayAuthenticationError);
    expect(err.upstreamCode).toBe('AUTH_ERROR');
    expect(err.message).not.toContain('wrong-secret');
    expect(sandbox.requests).toHaveLength(1);
  });

  it('403 for an origin that is not allow-listed', async () => {
    const { sandbox } = await setup();
    const zopay = client(sandbox, { credentials: { ...CREDENTIALS, origin: 'https://evil.example' } });
    const err = await failure(zopay.getPayout('anything'));
    expect(err).toBeInstanceOf(ZoPayForbiddenError);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('400 for an invalid recipient, with the upstream code', async () => {
    const { zopay } = await setup();
    const err = await failure(zopay.createQuote({ ...QUOTE, recipientMsisdn: '+237611111111' }));
    expect(err).toBeInstanceOf(ZoPayInvalidRequestError);
    expect(err.upstreamCode).toBe('INVALID_MSISDN');
  });

  it('400 for an expired quote', async () => {
    const { zopay, clock } = await setup();
    const quote = await zopay.createQuote(QUOTE);
    clock.offsetMs += 16 * 60_000;
    const err = await failure(zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'late-1', recipientMsisdn: SUCCESS_MSISDN }));
    expect(err).toBeInstanceOf(ZoPayInvalidRequestError);
    expect(err.upstreamCode).toBe('QUOTE_EXPIRED');
  });

  it('409 for an idempotency key reused with another quote', async () => {
    const { zopay } = await setup();
    const first = await zopay.createQuote(QUOTE);
    const second = await zopay.createQuote(QUOTE);
    await zopay.executeDisbursement({ quoteId: first.id, idempotencyKey: 'dup-1', recipientMsisdn: SUCCESS_MSISDN });
    const err = await failure(zopay.executeDisbursement({ quoteId: second.id, idempotencyKey: 'dup-1', recipientMsisdn: SUCCESS_MSISDN }));
    expect(err).toBeInstanceOf(ZoPayConflictError);
    expect(err.mayHaveReachedUpstream).toBe(false);
  });

  it('402 when the wallet cannot cover amount + fees', async () => {
    const { zopay } = await setup({ startingBalance: '100' });
    const quote = await zopay.createQuote(QUOTE);
    const err = await failure(zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'poor-1', recipientMsisdn: SUCCESS_MSISDN }));
    expect(err).toBeInstanceOf(ZoPayInsufficientBalanceError);
  });

  it('404 for an unknown payout id', async () => {
    const { zopay } = await setup();
    await expect(zopay.getPayout('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(ZoPayNotFoundError);
  });

  it('429 when the rate limit is spent: stops at once when the wait passes the deadline', async () => {
    const { sandbox, zopay } = await setup({ rateLimitPerMinute: 2 });
    await zopay.listPayouts({ limit: 1, offset: 0 });
    await zopay.listPayouts({ limit: 1, offset: 0 });
    const started = Date.now();
    const err = await failure(zopay.listPayouts({ limit: 1, offset: 0 }, { deadline: Date.now() + 2_000 }));
    expect(err).toBeInstanceOf(ZoPayRateLimitError);
    expect((err as ZoPayRateLimitError).retryAfterSeconds).toBeGreaterThan(2);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sandbox.requests).toHaveLength(3);
  });

  it('429 with a short retry_after: waits as told, then succeeds', async () => {
    const { sandbox, zopay } = await setup();
    sandbox.faults.inject({ route: 'quote', kind: 'rate429', times: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    await expect(zopay.createQuote(QUOTE)).resolves.toMatchObject({ gateway: 'MTN_MOMO' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(sandbox.requests.filter((r) => r.route === 'quote').map((r) => r.status)).toEqual([429, 200]);
  });
});

describe('ZoPayClient against the sandbox: retries and unknown outcomes', () => {
  it('retries injected 500s with the same idempotency_key and distinct nonces', async () => {
    const { sandbox, zopay } = await setup();
    const quote = await zopay.createQuote(QUOTE);
    sandbox.faults.inject({ route: 'execute', kind: 'http500', times: 2 });
    const payout = await zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'retry-1', recipientMsisdn: SUCCESS_MSISDN });
    const attempts = executeRequests(sandbox);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((r) => r.idempotencyKey))).toEqual(new Set(['retry-1']));
    expect(new Set(attempts.map((r) => r.headers['x-zo-nonce'])).size).toBe(3);
    expect(sandbox.ledger.payoutsByIdempotencyKey('retry-1').map((p) => p.id)).toEqual([payout.id]);
  });

  it('reports commitThenHang as may-have-reached, and a retry with the same key returns the same payout', async () => {
    const { sandbox, zopay } = await setup({}, { policy: { maxAttempts: 1, attemptTimeoutMs: 300 } });
    const quote = await zopay.createQuote(QUOTE);
    sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 1 });
    const req = { quoteId: quote.id, idempotencyKey: 'hang-1', recipientMsisdn: SUCCESS_MSISDN };
    const err = await failure(zopay.executeDisbursement(req));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect(err.mayHaveReachedUpstream).toBe(true);

    const [committed] = sandbox.ledger.payoutsByIdempotencyKey('hang-1');
    const again = await zopay.executeDisbursement(req);
    expect(again.id).toBe(committed?.id);
    expect(sandbox.ledger.payoutsByIdempotencyKey('hang-1')).toHaveLength(1);
  });

  it('resolves commitThenHang within one call by retrying with the same key', async () => {
    const { sandbox, zopay } = await setup({}, { policy: { attemptTimeoutMs: 300 } });
    const quote = await zopay.createQuote(QUOTE);
    sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 1 });
    const payout = await zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'hang-2', recipientMsisdn: SUCCESS_MSISDN });
    expect(sandbox.ledger.payoutsByIdempotencyKey('hang-2').map((p) => p.id)).toEqual([payout.id]);
    expect(executeRequests(sandbox)).toHaveLength(2);
  });

  it('reports commitThenReset as may-have-reached when retries are not allowed', async () => {
    const { sandbox, zopay } = await setup({}, { policy: { maxAttempts: 1 } });
    const quote = await zopay.createQuote(QUOTE);
    sandbox.faults.inject({ route: 'execute', kind: 'commitThenReset', times: 1 });
    const err = await failure(zopay.executeDisbursement({ quoteId: quote.id, idempotencyKey: 'reset-1', recipientMsisdn: SUCCESS_MSISDN }));
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(sandbox.ledger.payoutsByIdempotencyKey('reset-1')).toHaveLength(1);
  });

  it('does not retry a quote after a reset (a second quote could be created)', async () => {
    const { sandbox, zopay } = await setup();
    sandbox.faults.inject({ route: 'quote', kind: 'commitThenReset', times: 1 });
    const err = await failure(zopay.createQuote(QUOTE));
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(sandbox.requests.filter((r) => r.route === 'quote')).toHaveLength(1);
  });
});
