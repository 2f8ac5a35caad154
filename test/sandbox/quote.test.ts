import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feeOf, formatAmount, formatWebhookAmount, parseAmount } from '../../sandbox/money.js';
import { at, call, manualClock, MTN, ORANGE_SUCCESS, quoteBody, sandboxFor } from './helpers.js';

const QUOTE = '/api/v1/disbursements/quote';

/** Decimal string → hundredths, for checking identities numerically rather than as strings. */
const cents = (s: unknown) => {
  const m = /^(-?)(\d+)\.(\d\d)$/.exec(String(s));
  if (!m) throw new Error(`not a 2-dp amount: ${String(s)}`);
  return (m[1] ? -1n : 1n) * (BigInt(m[2] ?? '0') * 100n + BigInt(m[3] ?? '0'));
};

describe('POST /api/v1/disbursements/quote', () => {
  it('quotes 1% gateway and 0.5% platform fees, a negative net and a 15-minute expiry', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now });
    const r = await call(sb, { method: 'POST', path: QUOTE, body: quoteBody({ amount: '5000' }) }, clock.t);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      quote_id: expect.any(String),
      gateway_fee: '50.00',
      platform_fee: '25.00',
      total_amount: '5000.00',
      net_to_merchant: '-5075.00',
      expires_at: new Date(clock.t + 15 * 60_000).toISOString(),
    });
  });

  it('rounds XAF fees half-up to whole francs', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, body: quoteBody({ amount: '150' }) });
    // 1% of 150 = 1.5 → 2; 0.5% = 0.75 → 1.
    expect(r.json).toMatchObject({ gateway_fee: '2.00', platform_fee: '1.00', total_amount: '150.00', net_to_merchant: '-153.00' });
  });

  it('rounds USD fees half-up to cents', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, body: quoteBody({ amount: '10.05', currency: 'USD' }) });
    // 1% = 0.1005 → 0.10; 0.5% = 0.05025 → 0.05.
    expect(r.json).toMatchObject({ gateway_fee: '0.10', platform_fee: '0.05', total_amount: '10.05', net_to_merchant: '-10.20' });
  });

  it('serves /api/v1/wallets/quote identically and ignores a merchant_id', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: '/api/v1/wallets/quote', body: { merchant_id: 'uuid', ...quoteBody({ msisdn: ORANGE_SUCCESS }) } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ gateway_fee: '50.00', platform_fee: '25.00', total_amount: '5000.00', net_to_merchant: '-5075.00' });
    expect(sb.ledger.quotes()[0]).toMatchObject({ gateway: 'ORANGE_MONEY', msisdn: ORANGE_SUCCESS, usedBy: null });
  });

  it('keeps total_amount = amount and net_to_merchant = -(amount + fees) for any amount', async () => {
    const sb = await sandboxFor({ rateLimitPerMinute: 10_000 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom('XAF', 'USD'), async (n, currency) => {
        const amount = currency === 'XAF' ? String(n) : formatAmount(BigInt(n));
        const r = await call(sb, { method: 'POST', path: QUOTE, body: quoteBody({ amount, currency }) });
        expect(r.status).toBe(200);
        const [fee1, fee2, total, net] = ['gateway_fee', 'platform_fee', 'total_amount', 'net_to_merchant'].map((k) => cents(r.json[k]));
        expect(total).toBe(currency === 'XAF' ? BigInt(n) * 100n : BigInt(n));
        expect(net).toBe(-((total ?? 0n) + (fee1 ?? 0n) + (fee2 ?? 0n)));
        if (currency === 'XAF') expect([fee1, fee2].every((f) => (f ?? 1n) % 100n === 0n)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it.each([
    ['gateway', { gateway: 'AIRTEL' }],
    ['transaction_type', { transaction_type: 'COLLECTION' }],
    ['amount', { amount: 5000 }],
    ['amount', { amount: '0' }],
    ['amount', { amount: '-5' }],
    ['amount', { amount: 'abc' }],
    ['amount', { amount: '1e3' }],
    ['amount', { amount: '10.5' }],
    ['amount', { amount: '10.005', currency: 'USD' }],
    ['currency', { currency: 'xaf' }],
    ['currency', { currency: 'XA' }],
    ['recipient', { recipient: undefined }],
    ['recipient.msisdn', { recipient: { msisdn: 237670000001 } }],
  ])('answers 400 VALIDATION_ERROR naming %s for %j', async (field, patch) => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, body: { ...quoteBody(), ...patch } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'Bad Request', code: 'VALIDATION_ERROR' });
    expect(Object.keys(at(r.json, 'errors') as object)).toContain(field);
    expect(sb.ledger.quotes()).toEqual([]);
  });

  it('accepts trailing zeros in an XAF amount ("5000.00" is 5000)', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, body: quoteBody({ amount: '5000.00' }) });
    expect(r.status).toBe(200);
    expect(at(r.json, 'total_amount')).toBe('5000.00');
  });

  it.each([
    ['a number that is not a sandbox test number', '+237612345678', 'MTN_MOMO'],
    ['a test number without the +', '237670000001', 'MTN_MOMO'],
    ['an Orange number quoted for MTN', ORANGE_SUCCESS, 'MTN_MOMO'],
    ['an MTN number quoted for Orange', MTN.success, 'ORANGE_MONEY'],
    ['an unassigned suffix', '+237670000099', 'MTN_MOMO'],
  ] as const)('answers 400 INVALID_MSISDN for %s', async (_what, msisdn, gateway) => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, body: { ...quoteBody({ msisdn }), gateway } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'Bad Request', code: 'INVALID_MSISDN' });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const sb = await sandboxFor();
    const r = await call(sb, { method: 'POST', path: QUOTE, rawBody: '{"gateway":' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'Bad Request', message: 'Request body is not valid JSON', code: 'VALIDATION_ERROR' });
  });
});

describe('money helpers', () => {
  it('parses decimal strings into hundredths without float drift', () => {
    expect(parseAmount('0.1', 'USD')).toEqual({ ok: true, minor: 10n });
    expect(parseAmount('999999999999999.99', 'USD')).toEqual({ ok: true, minor: 99999999999999999n });
    expect(parseAmount('5000.000', 'XAF')).toEqual({ ok: true, minor: 500000n });
    expect(parseAmount('5000.5', 'XAF').ok).toBe(false);
  });

  it('formats resource amounts with 2 decimals and webhook amounts without', () => {
    expect(formatAmount(507500n)).toBe('5075.00');
    expect(formatAmount(-5n)).toBe('-0.05');
    expect(formatWebhookAmount(507500n)).toBe('5075');
    expect(formatWebhookAmount(1005n)).toBe('10.05');
  });

  it('computes fees in the currency unit, half-up', () => {
    expect(feeOf(500000n, 100, 'XAF')).toBe(5000n);
    expect(feeOf(15000n, 50, 'XAF')).toBe(100n);
    expect(feeOf(1005n, 50, 'USD')).toBe(5n);
  });
});
