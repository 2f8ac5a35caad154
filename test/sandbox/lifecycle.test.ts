import { describe, expect, it } from 'vitest';
import { at, getPayout, manualClock, MTN, ORANGE_SUCCESS, payout, sandboxFor, waitUntil } from './helpers.js';

describe('payout lifecycle and GET /api/v1/disbursements/:id', () => {
  it('completes a …01 payout on first check, with the documented resource shape', async () => {
    const clock = manualClock();
    const sb = await sandboxFor({ now: clock.now, processingDelayMs: 60_000 });
    const id = await payout(sb, { msisdn: MTN.success, amount: '5000' }, clock.t);
    clock.advance(1_000);
    const r = await getPayout(sb, id, clock.t);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      payout: {
        id,
        merchantId: 'merchant-sandbox-0001',
        gateway: 'MTN_MOMO',
        amount: '5000.00',
        currency: 'XAF',
        status: 'SUCCESS',
        recipient: { msisdn: MTN.success },
        gatewayReference: expect.stringMatching(/^MTN_REF_/),
        gatewayFee: '50.00',
        platformFee: '25.00',
        totalAmount: '5075.00',
        createdAt: new Date(clock.t - 1_000).toISOString(),
        completedAt: new Date(clock.t).toISOString(),
        error: null,
      },
    });
  });

  it('reports PROCESSING on GET when first-check resolution is off, then finalises after the delay', async () => {
    const sb = await sandboxFor({ resolveOnFirstCheck: false, processingDelayMs: 40 });
    const id = await payout(sb, { msisdn: ORANGE_SUCCESS });
    const r = await getPayout(sb, id);
    expect(at(r.json, 'payout', 'status')).toBe('PROCESSING');
    expect(at(r.json, 'payout', 'completedAt')).toBeNull();
    await waitUntil(() => sb.ledger.payout(id)?.status === 'SUCCESS', 2_000, 'SUCCESS');
    expect(at((await getPayout(sb, id)).json, 'payout', 'status')).toBe('SUCCESS');
  });

  it('divides the processing delay by the time scale', async () => {
    const sb = await sandboxFor({ resolveOnFirstCheck: false, processingDelayMs: 60_000, timeScale: 1_000 });
    const id = await payout(sb);
    await waitUntil(() => sb.ledger.payout(id)?.status === 'SUCCESS', 2_000, 'SUCCESS after 60 ms');
    expect(sb.ledger.payout(id)?.completedAt).not.toBeNull();
  });

  it('fails a …03 payout with "Insufficient funds" and refunds the wallet', async () => {
    const sb = await sandboxFor({ startingBalance: '10000' });
    const id = await payout(sb, { msisdn: MTN.insufficientFunds, amount: '5000' });
    expect(sb.ledger.balance()).toBe('4925.00');
    const r = await getPayout(sb, id);
    expect(at(r.json, 'payout', 'status')).toBe('FAILED');
    expect(at(r.json, 'payout', 'error')).toEqual({ code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' });
    expect(sb.ledger.balance()).toBe('10000.00');
  });

  it('fails a …04 payout as declined', async () => {
    const sb = await sandboxFor();
    const id = await payout(sb, { msisdn: MTN.declined });
    const r = await getPayout(sb, id);
    expect(at(r.json, 'payout', 'status')).toBe('FAILED');
    expect(at(r.json, 'payout', 'error')).toEqual({ code: 'DECLINED', message: 'Declined' });
  });

  it('never resolves a …05 payout, on GET or after the delay', async () => {
    const sb = await sandboxFor({ processingDelayMs: 10 });
    const id = await payout(sb, { msisdn: MTN.pending });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) expect(at((await getPayout(sb, id)).json, 'payout', 'status')).toBe('PROCESSING');
    expect(sb.ledger.payout(id)?.completedAt).toBeNull();
  });

  it('lets a test settle a pending payout, and never changes a final status', async () => {
    const sb = await sandboxFor();
    const id = await payout(sb, { msisdn: MTN.pending });
    sb.settle(id, 'FAILED', { code: 'GATEWAY_DOWN', message: 'Gateway unavailable' });
    expect(sb.ledger.payout(id)).toMatchObject({ status: 'FAILED', error: { code: 'GATEWAY_DOWN', message: 'Gateway unavailable' } });
    expect(() => sb.settle(id, 'SUCCESS')).toThrow(/already FAILED/);
    expect(at((await getPayout(sb, id)).json, 'payout', 'status')).toBe('FAILED');
  });

  it('throws when settling an unknown payout', async () => {
    const sb = await sandboxFor();
    expect(() => sb.settle('nope', 'SUCCESS')).toThrow(/unknown payout/);
  });

  it('answers 404 NOT_FOUND for an unknown payout id', async () => {
    const sb = await sandboxFor();
    const r = await getPayout(sb, 'a0000000-0000-4000-8000-000000000000');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'Not Found', message: 'Payout not found', code: 'NOT_FOUND' });
  });
});

describe('sandbox logging', () => {
  it('never logs secrets, signatures or full MSISDNs', async () => {
    const lines: string[] = [];
    const sb = await sandboxFor({ log: (l) => lines.push(l) });
    const id = await payout(sb, { msisdn: MTN.insufficientFunds });
    await getPayout(sb, id);
    const signatures = sb.requests.map((r) => r.headers['x-zo-signature'] ?? '');
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(text).toContain(id);
    for (const secret of ['zo_sandbox_secret', 'whsec_', '237670000003', ...signatures]) expect(text).not.toContain(secret);
  });
});
