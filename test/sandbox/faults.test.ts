import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { at, call, createQuote, execute, getPayout, MTN, payout, sandboxFor } from './helpers.js';

const LIST = { path: '/api/v1/disbursements' } as const;

async function quoted(opts: Parameters<typeof sandboxFor>[0] = {}, msisdn: string = MTN.success) {
  const sb = await sandboxFor(opts);
  const quoteId = await createQuote(sb, { msisdn });
  return { sb, quoteId, msisdn };
}

describe('injected request faults', () => {
  it('http500 answers 500 without creating anything, then the retry succeeds', async () => {
    const { sb, quoteId, msisdn } = await quoted();
    sb.faults.inject({ route: 'execute', kind: 'http500', times: 1 });
    const first = await execute(sb, quoteId, 'key-1', msisdn);
    expect(first.status).toBe(500);
    expect(first.json).toEqual({ error: 'Internal Server Error', message: 'Internal server error', code: 'INTERNAL_ERROR' });
    expect(sb.ledger.payouts()).toEqual([]);
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
    expect(sb.requests.filter((r) => r.route === 'execute').map((r) => [r.status, r.fault])).toEqual([
      [500, 'http500'],
      [200, undefined],
    ]);
  });

  it('http503 on route "any" applies to the next N requests of every route', async () => {
    const sb = await sandboxFor();
    sb.faults.inject({ route: 'any', kind: 'http503', times: 2 });
    const statuses = [(await call(sb, LIST)).status, (await getPayout(sb, 'x')).status, (await call(sb, LIST)).status];
    expect(statuses).toEqual([503, 503, 200]);
    expect(sb.faults.active()).toEqual([]);
  });

  it('rate429 answers 429 with the configured retry_after and Retry-After', async () => {
    const sb = await sandboxFor();
    sb.faults.inject({ route: 'list', kind: 'rate429', times: 1, retryAfterSeconds: 7 });
    const r = await call(sb, LIST);
    expect(r.status).toBe(429);
    expect([r.headers['retry_after'], r.headers['retry-after']]).toEqual(['7', '7']);
    expect(at(r.json, 'code')).toBe('RATE_LIMITED');
  });

  it('slow answers normally after delayMs', async () => {
    const sb = await sandboxFor();
    sb.faults.inject({ route: 'list', kind: 'slow', times: 1, delayMs: 200 });
    const started = Date.now();
    const r = await call(sb, LIST);
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('commitThenHang creates the payout but never answers; a retry with the same key gets it', async () => {
    const { sb, quoteId, msisdn } = await quoted();
    sb.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 1 });
    await expect(execute(sb, quoteId, 'key-1', msisdn, undefined, { timeoutMs: 200 })).rejects.toThrow(/timeout/i);
    const created = sb.ledger.payoutsByIdempotencyKey('key-1');
    expect(created).toHaveLength(1);
    const retry = await execute(sb, quoteId, 'key-1', msisdn);
    expect(retry.status).toBe(200);
    expect(at(retry.json, 'payout_id')).toBe(created[0]?.id);
    expect(sb.ledger.payouts()).toHaveLength(1);
  });

  it('commitThenReset creates the payout, then destroys the socket', async () => {
    const { sb, quoteId, msisdn } = await quoted();
    sb.faults.inject({ route: 'execute', kind: 'commitThenReset', times: 1 });
    await expect(execute(sb, quoteId, 'key-1', msisdn)).rejects.toThrow();
    expect(sb.ledger.payoutsByIdempotencyKey('key-1')).toHaveLength(1);
    expect(sb.requests.at(-1)).toMatchObject({ route: 'execute', status: 0, fault: 'commitThenReset' });
  });

  it('resetBeforeCommit destroys the socket before anything is created', async () => {
    const { sb, quoteId, msisdn } = await quoted({ startingBalance: '10000' });
    sb.faults.inject({ route: 'execute', kind: 'resetBeforeCommit', times: 1 });
    await expect(execute(sb, quoteId, 'key-1', msisdn)).rejects.toThrow();
    expect(sb.ledger.payouts()).toEqual([]);
    expect(sb.ledger.balance()).toBe('10000.00');
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
  });

  it('only counts correctly authenticated requests on the matching route', async () => {
    const sb = await sandboxFor();
    sb.faults.inject({ route: 'list', kind: 'http500', times: 1 });
    expect((await call(sb, { ...LIST, secret: 'wrong' })).status).toBe(401);
    expect((await getPayout(sb, 'x')).status).toBe(404);
    expect((await call(sb, LIST)).status).toBe(500);
    expect((await call(sb, LIST)).status).toBe(200);
  });

  it('clear() disarms every rule', async () => {
    const sb = await sandboxFor();
    sb.faults.inject({ route: 'any', kind: 'http500', times: 5 });
    sb.faults.clear();
    expect((await call(sb, LIST)).status).toBe(200);
  });

  it('rejects an invalid rule', async () => {
    const sb = await sandboxFor();
    expect(() => sb.faults.inject({ route: 'any', kind: 'http500', times: 0 })).toThrow();
  });

  it('close() ends a hanging request promptly', async () => {
    const { sb, quoteId, msisdn } = await quoted();
    sb.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 1 });
    const pending = execute(sb, quoteId, 'key-1', msisdn);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await sb.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
  });
});

describe('magic inputs', () => {
  it.each([
    ['+237670000010', 500],
    ['+237670000011', 503],
    ['+237670000012', 429],
  ])('recipient %s fails the first execute of each key with %i, then succeeds', async (msisdn, status) => {
    const { sb, quoteId } = await quoted({}, msisdn);
    const first = await execute(sb, quoteId, 'key-1', msisdn);
    expect(first.status).toBe(status);
    if (status === 429) expect(first.headers['retry_after']).toBe('2');
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
    expect(sb.ledger.payouts()).toHaveLength(1);
  });

  it('recipient +237670000013 commits the first execute and never answers it', async () => {
    const { sb, quoteId, msisdn } = await quoted({}, '+237670000013');
    await expect(execute(sb, quoteId, 'key-1', msisdn, undefined, { timeoutMs: 200 })).rejects.toThrow(/timeout/i);
    expect(sb.ledger.payoutsByIdempotencyKey('key-1')).toHaveLength(1);
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
  });

  it('recipient +237670000014 commits the first execute, then resets', async () => {
    const { sb, quoteId, msisdn } = await quoted({}, '+237670000014');
    await expect(execute(sb, quoteId, 'key-1', msisdn)).rejects.toThrow();
    expect(sb.ledger.payoutsByIdempotencyKey('key-1')).toHaveLength(1);
  });

  it('recipient +237670000015 resets the first execute before committing', async () => {
    const { sb, quoteId, msisdn } = await quoted({}, '+237670000015');
    await expect(execute(sb, quoteId, 'key-1', msisdn)).rejects.toThrow();
    expect(sb.ledger.payouts()).toEqual([]);
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
  });

  it('recipient +237690000016 (Orange) answers the first execute after 2 s', async () => {
    const { sb, quoteId, msisdn } = await quoted({}, '+237690000016');
    const started = Date.now();
    expect((await execute(sb, quoteId, 'key-1', msisdn)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it('an idempotency key starting sandbox-fault-http503- fails only its first attempt', async () => {
    const { sb, quoteId, msisdn } = await quoted();
    const key = `sandbox-fault-http503-${randomUUID()}`;
    expect((await execute(sb, quoteId, key, msisdn)).status).toBe(503);
    expect((await execute(sb, quoteId, key, msisdn)).status).toBe(200);
  });

  it('recipient +237670000009 fails the payout as an invalid recipient', async () => {
    const sb = await sandboxFor();
    const id = await payout(sb, { msisdn: '+237670000009' });
    const r = await getPayout(sb, id);
    expect(at(r.json, 'payout', 'error')).toEqual({ code: 'INVALID_MSISDN', message: 'Invalid recipient' });
  });
});
