import { describe, expect, it } from 'vitest';
import type { CreateQuoteRequest } from '../../src/zopay/types.js';
import {
  DEFAULT_QUOTE_TTL_MS,
  parseExecuteResponse,
  parseGetPayoutResponse,
  parseListPayoutsResponse,
  parseQuoteResponse,
  WireFormatError,
} from '../../src/zopay/wire.js';

const NOW = Date.parse('2024-01-15T10:30:00.000Z');
const REQ: CreateQuoteRequest = { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipientMsisdn: '+237612345678' };
const json = (v: unknown) => JSON.stringify(v);

const GET_DOC = {
  payout: {
    id: 'payout-uuid',
    merchantId: 'merchant-uuid',
    gateway: 'MTN_MOMO',
    amount: '5000.00',
    currency: 'XAF',
    status: 'SUCCESS',
    recipient: { msisdn: '+237612345678' },
    gatewayReference: 'MTN_REF_123456789',
    gatewayFee: '50.00',
    platformFee: '100.00',
    totalAmount: '5150.00',
    createdAt: '2024-01-15T10:00:00.000Z',
    completedAt: '2024-01-15T10:01:00.000Z',
    error: null,
  },
};

describe('quote response (§3.1, §9 #1)', () => {
  const base = { gateway_fee: '25.00', platform_fee: '10.00', total_amount: '5000.00', net_to_merchant: '-5035.00' };

  it('maps the assumed full response', () => {
    const quote = parseQuoteResponse(json({ quote_id: 'q-1', ...base, expires_at: '2024-01-15T10:45:00.000Z' }), REQ, NOW);
    expect(quote).toEqual({
      id: 'q-1',
      gateway: 'MTN_MOMO',
      amount: '5000.00',
      currency: 'XAF',
      gatewayFee: '25.00',
      platformFee: '10.00',
      merchantDebit: '5035.00',
      recipientMsisdn: '+237612345678',
      expiresAt: '2024-01-15T10:45:00.000Z',
    });
  });

  it('falls back to `id` when quote_id is missing', () => {
    expect(parseQuoteResponse(json({ id: 'q-2', ...base }), REQ, NOW).id).toBe('q-2');
  });

  it('falls back to `quote.id`, reading fields from the nested quote', () => {
    const quote = parseQuoteResponse(json({ quote: { id: 'q-3', ...base } }), REQ, NOW);
    expect(quote.id).toBe('q-3');
    expect(quote.merchantDebit).toBe('5035.00');
  });

  it('prefers quote_id over id over quote.id', () => {
    expect(parseQuoteResponse(json({ quote_id: 'a', id: 'b', quote: { id: 'c' }, ...base }), REQ, NOW).id).toBe('a');
    expect(parseQuoteResponse(json({ id: 'b', quote: { id: 'c' }, ...base }), REQ, NOW).id).toBe('b');
  });

  it('refuses the documented response that has no id at all (it could never be executed)', () => {
    expect(() => parseQuoteResponse(json(base), REQ, NOW)).toThrow(WireFormatError);
  });

  it('defaults a missing expires_at to now + 15 minutes', () => {
    const quote = parseQuoteResponse(json({ quote_id: 'q', ...base }), REQ, NOW);
    expect(quote.expiresAt).toBe(new Date(NOW + DEFAULT_QUOTE_TTL_MS).toISOString());
    expect(parseQuoteResponse(json({ quote_id: 'q', ...base, expires_at: null }), REQ, NOW).expiresAt).toBe(quote.expiresAt);
    expect(parseQuoteResponse(json({ quote_id: 'q', ...base, expires_at: 'soon' }), REQ, NOW).expiresAt).toBe(quote.expiresAt);
  });

  it('computes merchantDebit as amount + fees when net_to_merchant is absent', () => {
    const { net_to_merchant: _n, ...noNet } = base;
    expect(parseQuoteResponse(json({ quote_id: 'q', ...noNet, total_amount: '5000' }), REQ, NOW).merchantDebit).toBe('5035.00');
  });

  it('uses the request amount when total_amount is absent', () => {
    const quote = parseQuoteResponse(json({ quote_id: 'q', gateway_fee: '1', platform_fee: '2' }), REQ, NOW);
    expect(quote.amount).toBe('5000');
    expect(quote.merchantDebit).toBe('5003');
  });

  it('reads the /wallets/quote variant with nested fees and a positive net', () => {
    const wire = { quote_id: 'q', fees: { gateway_fee: '50.00', platform_fee: '100.00' }, total_amount: '10150.00', net_to_merchant: '10150.00' };
    const quote = parseQuoteResponse(json(wire), REQ, NOW);
    expect([quote.gatewayFee, quote.platformFee, quote.merchantDebit]).toEqual(['50.00', '100.00', '10150.00']);
  });

  it('keeps amounts as the exact strings sent, tolerating JSON numbers', () => {
    const quote = parseQuoteResponse(json({ quote_id: 'q', gateway_fee: 15, platform_fee: '10.50', total_amount: '5000' }), REQ, NOW);
    expect([quote.gatewayFee, quote.platformFee, quote.merchantDebit]).toEqual(['15', '10.50', '5025.50']);
  });

  it.each([
    ['fees missing', { quote_id: 'q', total_amount: '5000' }],
    ['a non-decimal net', { quote_id: 'q', ...base, net_to_merchant: 'n/a' }],
    ['not JSON', '<html>'],
    ['an array', []],
  ])('refuses %s', (_name, body) => {
    expect(() => parseQuoteResponse(typeof body === 'string' ? body : json(body), REQ, NOW)).toThrow(WireFormatError);
  });
});

describe('execute response (§3.3)', () => {
  it('maps the documented response', () => {
    const wire = { payout_id: 'payout-uuid', status: 'PROCESSING', gateway_reference: 'MTN_REF_123456789', correlation_id: 'corr-uuid' };
    expect(parseExecuteResponse(json(wire))).toEqual({
      id: 'payout-uuid',
      status: 'PROCESSING',
      rawStatus: 'PROCESSING',
      source: 'execute',
      gatewayReference: 'MTN_REF_123456789',
      correlationId: 'corr-uuid',
    });
  });

  it('tolerates null references, extra fields and an `id` instead of payout_id', () => {
    const payout = parseExecuteResponse(json({ id: 'p', status: 'PENDING', gateway_reference: null, extra: { x: 1 } }));
    expect(payout).toMatchObject({ id: 'p', status: 'PENDING', gatewayReference: undefined });
  });

  it('refuses a response without any payout id or status', () => {
    expect(() => parseExecuteResponse(json({ status: 'PROCESSING' }))).toThrow(WireFormatError);
    expect(() => parseExecuteResponse(json({ payout_id: 'p' }))).toThrow(WireFormatError);
  });
});

describe('GET payout (§3.4)', () => {
  it('maps the documented resource', () => {
    expect(parseGetPayoutResponse(json(GET_DOC))).toEqual({
      id: 'payout-uuid',
      status: 'SUCCESS',
      rawStatus: 'SUCCESS',
      source: 'get',
      gateway: 'MTN_MOMO',
      amount: '5000.00',
      currency: 'XAF',
      recipientMsisdn: '+237612345678',
      gatewayReference: 'MTN_REF_123456789',
      correlationId: undefined,
      gatewayFee: '50.00',
      platformFee: '100.00',
      totalAmount: '5150.00',
      createdAt: '2024-01-15T10:00:00.000Z',
      completedAt: '2024-01-15T10:01:00.000Z',
      failure: null,
      merchantId: 'merchant-uuid',
      batchId: undefined,
    });
  });

  it('reads the index-page variant without totalAmount and error', () => {
    const { totalAmount: _t, error: _e, ...lean } = GET_DOC.payout;
    const payout = parseGetPayoutResponse(json({ payout: lean }));
    expect(payout.totalAmount).toBeUndefined();
    expect(payout.failure).toBeUndefined();
  });

  it('maps an unknown status to PROCESSING and keeps the raw string', () => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, status: 'VERIFYING', completedAt: null } }));
    expect(payout).toMatchObject({ status: 'PROCESSING', rawStatus: 'VERIFYING', completedAt: null });
  });

  it('adds the + to an MSISDN sent without it', () => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, recipient: { msisdn: '237670000001' } } }));
    expect(payout.recipientMsisdn).toBe('+237670000001');
  });

  it.each([
    ['a string', 'Insufficient funds', { message: 'Insufficient funds' }],
    ['an object', { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' }, { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' }],
    ['an object with only a code', { code: 'DECLINED' }, { code: 'DECLINED', message: 'DECLINED' }],
    ['an object with only a message', { message: 'Declined' }, { message: 'Declined' }],
    ['null', null, null],
  ])('normalises `error` given as %s', (_name, error, failure) => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, status: 'FAILED', error } }));
    expect(payout.failure).toEqual(failure);
  });

  it('falls back to failureReason when error carries nothing', () => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, status: 'FAILED', error: null, failureReason: 'Declined' } }));
    expect(payout.failure).toEqual({ message: 'Declined' });
  });

  it.each([
    ['no date', 'not a date'],
    ['a number Date.parse takes', '1'],
    ['words with a number Date.parse takes', 'soon 12'],
    ['a time without an offset (in which zone?)', '2024-01-15 10:00:00'],
    ['a date without a time', '2024-01-15'],
    ['a day that does not exist', '2024-02-31T10:00:00Z'],
    ['hour 24', '2024-01-15T24:00:00Z'],
  ])('drops a createdAt or completedAt that is %s: it would go out as a DateTime', (_name, text) => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, createdAt: text, completedAt: text } }));
    expect([payout.createdAt, payout.completedAt]).toEqual([undefined, undefined]);
  });

  it.each([
    ['UTC with milliseconds, as ZoPay documents', '2024-01-15T10:00:00.000Z', '2024-01-15T10:00:00.000Z'],
    ['UTC without a fraction', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00.000Z'],
    ['microseconds', '2024-01-15T10:00:00.123456Z', '2024-01-15T10:00:00.123Z'],
    ['an offset with a colon', '2024-01-15T11:30:00+01:30', '2024-01-15T10:00:00.000Z'],
    ['an offset without one', '2024-01-15T05:00:00-0500', '2024-01-15T10:00:00.000Z'],
    ['a leap day', '2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('keeps a timestamp written with %s, as the same instant in UTC', (_name, text, utc) => {
    const payout = parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, createdAt: text, completedAt: text } }));
    expect([payout.createdAt, payout.completedAt]).toEqual([utc, utc]);
  });

  it('keeps a null completedAt (not completed)', () => {
    expect(parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, completedAt: null } })).completedAt).toBeNull();
  });

  it('drops an unknown gateway instead of guessing', () => {
    expect(parseGetPayoutResponse(json({ payout: { ...GET_DOC.payout, gateway: 'WAVE' } })).gateway).toBeUndefined();
  });

  it('refuses a body without the payout wrapper', () => {
    expect(() => parseGetPayoutResponse(json(GET_DOC.payout))).toThrow(WireFormatError);
  });
});

describe('list payouts (§3.5, §9 #21)', () => {
  const item = GET_DOC.payout;

  it('maps the documented page', () => {
    const page = parseListPayoutsResponse(json({ payouts: [item], total: 150, limit: 20, offset: 0, hasMore: true }), { limit: 20, offset: 0 });
    expect(page).toMatchObject({ total: 150, limit: 20, offset: 0, hasMore: true });
    expect(page.payouts[0]).toMatchObject({ id: 'payout-uuid', source: 'list', status: 'SUCCESS' });
  });

  it('derives hasMore from total when the index-page variant omits it', () => {
    const lean = { id: 'p1', gateway: 'MTN_MOMO', amount: '5000.00', status: 'SUCCESS' };
    const more = parseListPayoutsResponse(json({ payouts: [lean], total: 3, limit: 1, offset: 1 }), { limit: 1, offset: 1 });
    expect(more.hasMore).toBe(true);
    const last = parseListPayoutsResponse(json({ payouts: [lean], total: 3, limit: 1, offset: 2 }), { limit: 1, offset: 2 });
    expect(last.hasMore).toBe(false);
  });

  it('uses the requested limit/offset when they are not echoed, and guesses hasMore from a full page', () => {
    const page = parseListPayoutsResponse(json({ payouts: [item, item] }), { limit: 2, offset: 4 });
    expect(page).toMatchObject({ total: 6, limit: 2, offset: 4, hasMore: true });
  });

  it('refuses a page whose payouts are missing', () => {
    expect(() => parseListPayoutsResponse(json({ total: 0 }), { limit: 20, offset: 0 })).toThrow(WireFormatError);
  });
});
