import { beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/index.js';
import { at, call, manualClock, MTN, ORANGE_SUCCESS, payout, sandboxFor } from './helpers.js';

const LIST = '/api/v1/disbursements';
const ids = (json: Record<string, unknown>) => (at(json, 'payouts') as Array<{ id: string }>).map((p) => p.id);

describe('GET /api/v1/disbursements', () => {
  let sb: Sandbox;
  let clock: ReturnType<typeof manualClock>;
  /** Oldest first: one payout a minute, alternating gateways; every third one FAILED. */
  let created: string[];
  const start = Date.UTC(2026, 0, 15, 10, 0, 0);

  beforeEach(async () => {
    clock = manualClock(start);
    sb = await sandboxFor({ now: clock.now, rateLimitPerMinute: 10_000 });
    created = [];
    for (let i = 0; i < 25; i++) {
      const msisdn = i % 3 === 2 ? MTN.declined : i % 2 === 0 ? MTN.success : ORANGE_SUCCESS;
      created.push(await payout(sb, { msisdn }, clock.t));
      clock.advance(60_000);
    }
    for (const id of created) {
      const p = sb.ledger.payout(id);
      if (p?.status === 'PROCESSING') sb.settle(id, p.recipient.msisdn === MTN.declined ? 'FAILED' : 'SUCCESS');
    }
  });

  const list = (query?: Record<string, string>) => call(sb, { path: LIST, query }, clock.t);

  it('lists newest first with the default limit of 20 and hasMore', async () => {
    const r = await list();
    expect(r.status).toBe(200);
    expect(ids(r.json)).toEqual([...created].reverse().slice(0, 20));
    expect(r.json).toMatchObject({ total: 25, limit: 20, offset: 0, hasMore: true });
  });

  it('returns list items in the documented camelCase shape', async () => {
    const r = await list({ limit: '1' });
    expect((at(r.json, 'payouts') as unknown[])[0]).toEqual({
      id: created[24],
      merchantId: 'merchant-sandbox-0001',
      gateway: 'MTN_MOMO',
      amount: '5000.00',
      currency: 'XAF',
      status: 'SUCCESS',
      recipient: { msisdn: MTN.success },
      gatewayReference: expect.any(String),
      gatewayFee: '50.00',
      platformFee: '25.00',
      totalAmount: '5075.00',
      createdAt: new Date(start + 24 * 60_000).toISOString(),
      completedAt: expect.any(String),
    });
  });

  it('pages with offset until hasMore is false', async () => {
    const r = await list({ limit: '10', offset: '20' });
    expect(ids(r.json)).toEqual([...created].reverse().slice(20));
    expect(r.json).toMatchObject({ total: 25, limit: 10, offset: 20, hasMore: false });
  });

  it.each([
    ['0', 1],
    ['-5', 1],
    ['1000', 100],
    ['100', 100],
  ])('clamps limit=%s to %i and echoes the effective limit', async (limit, effective) => {
    const r = await list({ limit });
    expect(at(r.json, 'limit')).toBe(effective);
    expect(ids(r.json)).toHaveLength(Math.min(effective, 25));
  });

  it('filters by status and by gateway, and combines filters', async () => {
    const failed = await list({ status: 'FAILED', limit: '100' });
    expect(at(failed.json, 'total')).toBe(8);
    const orange = await list({ gateway: 'ORANGE_MONEY', limit: '100' });
    expect((at(orange.json, 'payouts') as Array<{ gateway: string }>).every((p) => p.gateway === 'ORANGE_MONEY')).toBe(true);
    const both = await list({ gateway: 'MTN_MOMO', status: 'SUCCESS', limit: '100' });
    const items = at(both.json, 'payouts') as Array<{ gateway: string; status: string }>;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((p) => p.gateway === 'MTN_MOMO' && p.status === 'SUCCESS')).toBe(true);
    expect(at(both.json, 'total')).toBe(items.length);
  });

  it('filters on createdAt with inclusive startDate and endDate', async () => {
    const startDate = new Date(start + 5 * 60_000).toISOString();
    const endDate = new Date(start + 9 * 60_000).toISOString();
    const r = await list({ startDate, endDate });
    expect(ids(r.json)).toEqual(created.slice(5, 10).reverse());
  });

  it('accepts second-precision ISO dates such as 2026-01-15T10:03:00Z', async () => {
    const r = await list({ endDate: '2026-01-15T10:03:00Z' });
    expect(ids(r.json)).toEqual(created.slice(0, 4).reverse());
  });

  it('supports batch_id as a filter (no sandbox payout belongs to a batch)', async () => {
    const r = await list({ batch_id: 'batch-uuid' });
    expect(r.json).toMatchObject({ payouts: [], total: 0, hasMore: false });
  });

  it.each([
    ['status', { status: 'DONE' }],
    ['gateway', { gateway: 'AIRTEL' }],
    ['limit', { limit: 'ten' }],
    ['offset', { offset: '-1' }],
    ['startDate', { startDate: 'yesterday' }],
  ])('answers 400 VALIDATION_ERROR for a bad %s', async (field, query) => {
    const r = await list(query);
    expect(r.status).toBe(400);
    expect(Object.keys(at(r.json, 'errors') as object)).toEqual([field]);
  });
});
