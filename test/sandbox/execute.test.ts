import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { at, call, createQuote, execute, manualClock, MTN, sandboxFor } from './helpers.js';

describe('POST /api/v1/disbursements/execute', () => {
  it('creates a PROCESSING payout and debits amount plus fees from the wallet', async () => {
    const sb = await sandboxFor({ startingBalance: '100000' });
    const quoteId = await createQuote(sb, { amount: '5000' });
    const r = await execute(sb, quoteId, 'key-1', MTN.success);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      payout_id: expect.any(String),
      status: 'PROCESSING',
      gateway_reference: expect.stringMatching(/^MTN_REF_\d{9}$/),
      correlation_id: expect.any(String),
    });
    expect(sb.ledger.balance()).toBe('94925.00');
    expect(sb.ledger.quotes()[0]?.usedBy).toBe('key-1');
    expect(sb.ledger.payoutsByIdempotencyKey('key-1')).toHaveLength(1);
  });

  it('returns the same payout with its current status for a retried idempotency key', async () => {
    const sb = await sandboxFor({ startingBalance: '100000' });
    const quoteId = await createQuote(sb);
    const first = await execute(sb, quoteId, 'key-1', MTN.success);
    sb.settle(String(first.json['payout_id']), 'SUCCESS');
    const again = await execute(sb, quoteId, 'key-1', MTN.success);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ ...first.json, status: 'SUCCESS' });
    expect(sb.ledger.payouts()).toHaveLength(1);
    expect(sb.ledger.balance()).toBe('94925.00');
  });

  it('answers 409 IDEMPOTENCY_CONFLICT for the same key with a different quote', async () => {
    const sb = await sandboxFor();
    const q1 = await createQuote(sb);
    const q2 = await createQuote(sb);
    await execute(sb, q1, 'key-1', MTN.success);
    const r = await execute(sb, q2, 'key-1', MTN.success);
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ error: 'Conflict', code: 'IDEMPOTENCY_CONFLICT' });
    expect(sb.ledger.payouts()).toHaveLength(1);
    expect(sb.ledger.quotes()[1]?.usedBy).toBeNull();
  });

  it('answers 409 IDEMPOTENCY_CONFLICT for the same key with a different msisdn', async () => {
    const sb = await sandboxFor();
    const q = await createQuote(sb);
    await execute(sb, q, 'key-1', MTN.success);
    const r = await execute(sb, q, 'key-1', MTN.success2);
    expect(r.status).toBe(409);
    expect(at(r.json, 'code')).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('answers 409 QUOTE_ALREADY_USED when another key executes a used quote', async () => {
    const sb = await sandboxFor();
    const q = await createQuote(sb);
    await execute(sb, q, 'key-1', MTN.success);
    const r = await execute(sb, q, 'key-2', MTN.success);
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ error: 'Conflict', code: 'QUOTE_ALREADY_USED' });
    expect(sb.ledger.payouts()).toHaveLength(1);
  });

  it('answers 400 QUOTE_NOT_FOUND for an unknown quote', async () => {
    const sb = await sandboxFor();
    const r = await execute(sb, randomUUID(), 'key-1', MTN.success);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'Bad Request', code: 'QUOTE_NOT_FOUND' });
  });

  it('answers 400 QUOTE_EXPIRED 15 minutes after the quote, and accepts it just before', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const early = await createQuote(sb, {}, clock.t);
    const late = await createQuote(sb, {}, clock.t);
    clock.advance(15 * 60_000 - 1_000);
    expect((await execute(sb, early, 'key-early', MTN.success, clock.t)).status).toBe(200);
    clock.advance(1_000);
    const r = await execute(sb, late, 'key-late', MTN.success, clock.t);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'QUOTE_EXPIRED', message: 'Quote expired' });
  });

  it('still replays a payout after its quote has expired', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const q = await createQuote(sb, {}, clock.t);
    const first = await execute(sb, q, 'key-1', MTN.success, clock.t);
    clock.advance(60 * 60_000);
    const again = await execute(sb, q, 'key-1', MTN.success, clock.t);
    expect(again.status).toBe(200);
    expect(at(again.json, 'payout_id')).toBe(at(first.json, 'payout_id'));
  });

  it('keeps idempotency keys for 24 hours', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const q = await createQuote(sb, {}, clock.t);
    const first = await execute(sb, q, 'key-1', MTN.success, clock.t);
    clock.advance(24 * 60 * 60_000);
    const again = await execute(sb, q, 'key-1', MTN.success, clock.t);
    expect(at(again.json, 'payout_id')).toBe(at(first.json, 'payout_id'));
  });

  it('forgets idempotency keys after 24 hours, so memory stays bounded', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const q = await createQuote(sb, {}, clock.t);
    await execute(sb, q, 'key-1', MTN.success, clock.t);
    clock.advance(24 * 60 * 60_000 + 60_000);
    // The key is gone; the quote is still remembered as used, so nothing is paid twice.
    const again = await execute(sb, q, 'key-1', MTN.success, clock.t);
    expect(again.status).toBe(409);
    expect(at(again.json, 'code')).toBe('QUOTE_ALREADY_USED');
    expect(sb.ledger.payouts()).toHaveLength(1);
  });

  it('answers 400 VALIDATION_ERROR when the msisdn differs from the quote', async () => {
    const sb = await sandboxFor();
    const q = await createQuote(sb, { msisdn: MTN.success });
    const r = await execute(sb, q, 'key-1', MTN.success2);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'VALIDATION_ERROR', errors: { 'recipient.msisdn': [expect.any(String)] } });
    expect(sb.ledger.payouts()).toEqual([]);
  });

  it('answers 402 INSUFFICIENT_BALANCE when the wallet cannot cover amount plus fees, and changes nothing', async () => {
    const sb = await sandboxFor({ startingBalance: '5074' });
    const q = await createQuote(sb, { amount: '5000' });
    const r = await execute(sb, q, 'key-1', MTN.success);
    expect(r.status).toBe(402);
    expect(r.json).toMatchObject({ error: 'Payment Required', code: 'INSUFFICIENT_BALANCE' });
    expect(sb.ledger.balance()).toBe('5074.00');
    expect(sb.ledger.payouts()).toEqual([]);
    expect(sb.ledger.quotes()[0]?.usedBy).toBeNull();
  });

  it('accepts a payout costing exactly the wallet balance', async () => {
    const sb = await sandboxFor({ startingBalance: '5075' });
    const q = await createQuote(sb, { amount: '5000' });
    expect((await execute(sb, q, 'key-1', MTN.success)).status).toBe(200);
    expect(sb.ledger.balance()).toBe('0.00');
  });

  it.each([
    ['quote_id', { idempotency_key: 'k', recipient: { msisdn: MTN.success } }],
    ['idempotency_key', { quote_id: 'q', idempotency_key: '', recipient: { msisdn: MTN.success } }],
    ['recipient', { quote_id: 'q', idempotency_key: 'k' }],
  ])('answers 400 VALIDATION_ERROR naming %s', async (field, body) => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: '/api/v1/disbursements/execute', body });
    expect(r.status).toBe(400);
    expect(Object.keys(at(r.json, 'errors') as object)).toContain(field);
  });

  it('records the idempotency key of each execute request', async () => {
    const sb = await sandboxFor();
    const q = await createQuote(sb);
    await execute(sb, q, 'key-recorded', MTN.success);
    expect(sb.requests.filter((r) => r.route === 'execute').map((r) => r.idempotencyKey)).toEqual(['key-recorded']);
  });
});
