import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { gql, pay, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;
const ids: string[] = [];

const LIST = `query($first: Int, $after: String, $filter: PayoutFilter) {
  payouts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id status } }
  }
}`;
type Page = {
  payouts: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: { id: string; status: string } }[];
  };
};

/** ZoPay's signed `payout.failed` webhook for `id`, delivered to the gateway at `url`. */
async function deliverFailure(url: string, id: string, deliveryId: string): Promise<void> {
  const raw = JSON.stringify({
    event: 'payout.failed',
    data: { payout_id: id, merchant_id: 'm', amount: '5000', currency: 'XAF', gateway: 'MTN_MOMO', recipient_msisdn: '237670000005', status: 'FAILED', fees: '75', total_deducted: '5075', created_at: new Date().toISOString() },
    timestamp: new Date().toISOString(),
  });
  const headers = signedWebhookHeaders({ secret: SANDBOX_DEFAULTS.webhookSecret, rawBody: raw, event: 'payout.failed', deliveryId, timestampMs: Date.now() });
  const res = await fetch(`${url}/webhooks/zopay`, { method: 'POST', headers, body: raw });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  stack = await startStack();
  token = await stack.token('pager', 'payouts:write payouts:read');
  for (let i = 0; i < 7; i++) ids.push(await pay(stack.gateway.url, token, `page-${i}`, '+237670000005'));
});
afterAll(() => stack.close());

describe('payouts connection', () => {
  it('pages through every payout, newest first, with opaque cursors', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: { data?: Page | null } = await gql<Page>(stack.gateway.url, LIST, { first: 3, after }, token);
      const page = res.data?.payouts;
      expect(page?.totalCount).toBe(7);
      seen.push(...(page?.edges.map((e) => e.node.id) ?? []));
      pages++;
      if (!page?.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status through ZoPay', async () => {
    const res = await gql<Page>(stack.gateway.url, LIST, { first: 10, filter: { status: 'SUCCESS' } }, token);
    expect(res.data?.payouts.totalCount).toBe(0);
  });

  it.each([[0], [101]])('rejects first = %i as BAD_USER_INPUT', async (first) => {
    const res = await gql(stack.gateway.url, LIST, { first }, token);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('rejects a forged cursor as BAD_USER_INPUT', async () => {
    const res = await gql(stack.gateway.url, LIST, { first: 2, after: 'bm90LWEtY3Vyc29y' }, token);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

describe('payouts connection when the gateway knows better than ZoPay\'s list', () => {
  // ZoPay's list lags its webhooks: these payouts are FAILED for the gateway (a signed webhook said so)
  // but ZoPay still lists them, under a PROCESSING filter too, at their old offsets.
  let lagging: TestStack;
  let reader: string;
  /** Newest first, as ZoPay lists them: listed[i] sits at ZoPay offset i. */
  const listed: string[] = [];
  const FAILED_AT = [1, 3, 4, 5];

  const fail = (id: string) => deliverFailure(lagging.gateway.url, id, `lag-${id}`);

  /** Follows endCursor while hasNextPage, checking on every page that the client can page on. */
  async function pageAll(first: number, filter?: Record<string, string>) {
    const pages: Page['payouts'][] = [];
    let after: string | null = null;
    for (let n = 0; n < 20; n++) {
      const res: { data?: Page | null; errors?: unknown } = await gql<Page>(lagging.gateway.url, LIST, { first, after, ...(filter ? { filter } : {}) }, reader);
      expect(res.errors).toBeUndefined();
      const page = res.data?.payouts;
      if (!page) throw new Error('no page');
      pages.push(page);
      expect(page.edges.length).toBeLessThanOrEqual(first);
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!page.pageInfo.hasNextPage) break;
      // A next page must be reachable, and past this one.
      expect(page.pageInfo.endCursor).not.toBeNull();
      expect(page.pageInfo.endCursor).not.toBe(after);
      after = page.pageInfo.endCursor;
    }
    const seen = pages.flatMap((p) => p.edges.map((e) => e.node.id));
    return { pages, seen };
  }

  beforeAll(async () => {
    lagging = await startStack({ sandbox: { webhookUrl: null } });
    reader = await lagging.token('lag-reader', 'payouts:write payouts:read');
    for (let i = 0; i < 7; i++) listed.unshift(await pay(lagging.gateway.url, reader, `lag-${i}`, '+237670000005'));
    for (const i of FAILED_AT) await fail(listed[i] as string);
  });
  afterAll(() => lagging?.close());

  const processing = () => listed.filter((_, i) => !FAILED_AT.includes(i));

  it.each([[1], [2], [3], [7]])('first = %i under a PROCESSING filter: every payout still PROCESSING once, in order, none the gateway knows FAILED', async (first) => {
    const { pages, seen } = await pageAll(first, { status: 'PROCESSING' });
    expect(seen).toEqual(processing());
    for (const p of pages) for (const e of p.edges) expect(e.node.status).toBe('PROCESSING');
    // ZoPay's count for the filter: it still counts the payouts its list has not yet moved on.
    for (const p of pages) expect(p.totalCount).toBe(7);
    expect(pages.at(-1)?.pageInfo.hasNextPage).toBe(false);
  });

  const listReads = () => lagging.sandbox.requests.filter((r) => r.route === 'list').length;

  it('fills a page from further down ZoPay\'s list when the gateway drops an item', async () => {
    const before = listReads();
    const res = await gql<Page>(lagging.gateway.url, LIST, { first: 2, filter: { status: 'PROCESSING' } }, reader);
    expect(listReads() - before).toBe(2);
    const page = res.data?.payouts;
    expect(page?.edges.map((e) => e.node.id)).toEqual([listed[0], listed[2]]);
    expect(page?.pageInfo.hasNextPage).toBe(true);
    // Cursors are positions in ZoPay's list: the second edge sits at offset 2.
    expect(page?.edges.map((e) => Buffer.from(e.cursor, 'base64url').toString())).toEqual(['o1:0', 'o1:2']);
    expect(page?.pageInfo.endCursor).toBe(page?.edges[1]?.cursor);
  });

  it('answers an empty page whose endCursor still moves on when a run of dropped items outlasts its bounded reads', async () => {
    const after = Buffer.from('o1:2').toString('base64url');
    const res = await gql<Page>(lagging.gateway.url, LIST, { first: 1, after, filter: { status: 'PROCESSING' } }, reader);
    const page = res.data?.payouts;
    // Offsets 3, 4 and 5 are all FAILED for the gateway: three reads of one row each, then it stops.
    expect(page?.edges).toEqual([]);
    expect(page?.pageInfo.hasNextPage).toBe(true);
    expect(Buffer.from(page?.pageInfo.endCursor ?? '', 'base64url').toString()).toBe('o1:5');
    const next = await gql<Page>(lagging.gateway.url, LIST, { first: 1, after: page?.pageInfo.endCursor, filter: { status: 'PROCESSING' } }, reader);
    expect(next.data?.payouts.edges.map((e) => e.node.id)).toEqual([listed[6]]);
    expect(next.data?.payouts.pageInfo.hasNextPage).toBe(false);
  });

  it('pages the unfiltered list as ZoPay lists it, with the statuses the gateway knows, one ZoPay read a page', async () => {
    const before = listReads();
    const { seen, pages } = await pageAll(3);
    expect(listReads() - before).toBe(pages.length);
    expect(seen).toEqual(listed);
    expect(pages.map((p) => p.edges.length)).toEqual([3, 3, 1]);
    const statuses = pages.flatMap((p) => p.edges.map((e) => e.node.status));
    expect(statuses).toEqual(listed.map((_, i) => (FAILED_AT.includes(i) ? 'FAILED' : 'PROCESSING')));
  });

  it('still reads cursors handed out before (base64url of o1:<offset>)', async () => {
    const res = await gql<Page>(lagging.gateway.url, LIST, { first: 2, after: Buffer.from('o1:0').toString('base64url') }, reader);
    expect(res.data?.payouts.edges.map((e) => e.node.id)).toEqual([listed[1], listed[2]]);
  });
});

describe('a caller without payouts:read pages its own payouts (the owner index)', () => {
  it('under a filter, a payout that leaves it between two pages (a webhook) makes the next page skip nothing and repeat nothing', async () => {
    const own = await stack.token('owner-filtered', 'payouts:write');
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push(await pay(stack.gateway.url, own, `owner-filtered-${i}`, '+237670000005'));
    const filter = { status: 'PROCESSING' };
    const first = await gql<Page>(stack.gateway.url, LIST, { first: 2, filter }, own);
    const page1 = first.data?.payouts as Page['payouts'];
    expect(page1.totalCount).toBe(5);
    const left = page1.edges[0]?.node.id as string;
    // ZoPay's signed webhook: the first payout of page 1 failed, so it leaves the PROCESSING filter.
    await deliverFailure(stack.gateway.url, left, `owner-filtered-${left}`);
    const seen = page1.edges.map((e) => e.node.id);
    let after = page1.pageInfo.endCursor;
    for (let n = 0; n < 5 && after; n++) {
      const res = await gql<Page>(stack.gateway.url, LIST, { first: 2, after, filter }, own);
      const page = res.data?.payouts as Page['payouts'];
      seen.push(...page.edges.map((e) => e.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    }
    // Every payout still PROCESSING was listed once; the one that left was listed before it left.
    expect([...seen].sort()).toEqual([...mine].sort());
  });

  it('past its first 1,000 payouts too: every page has its payouts and a cursor to the next', async () => {
    const sub = 'owner-with-many';
    const own = await stack.token(sub, 'payouts:write');
    const { owners, payouts: status } = stack.gateway.state.stores;
    // 1,005 payouts the gateway holds as complete finals (served without asking ZoPay), oldest first.
    const many = Array.from({ length: 1_005 }, (_, i) => `many-${String(i).padStart(4, '0')}`);
    for (const id of many) {
      await owners.setOwner(id, sub);
      await status.apply({
        id, status: 'SUCCESS', rawStatus: 'SUCCESS', source: 'get', gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipientMsisdn: '+237670000001',
        gatewayFee: '50', platformFee: '25', totalAmount: '5075', createdAt: '2026-11-27T10:00:00.000Z', completedAt: '2026-11-27T10:01:00.000Z', failure: null,
      });
      // Newest first is by the time the owner was recorded.
      await new Promise((r) => setImmediate(r));
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 30; pages++) {
      const res: { data?: Page | null; errors?: unknown } = await gql<Page>(stack.gateway.url, LIST, { first: 100, ...(after ? { after } : {}) }, own);
      expect(res.errors).toBeUndefined();
      const page = res.data?.payouts as Page['payouts'];
      expect(page.totalCount).toBe(1_005);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges.length).toBe(100);
      expect(page.pageInfo.endCursor).not.toBeNull();
      after = page.pageInfo.endCursor;
    }
    expect(seen.length).toBe(1_005);
    expect(new Set(seen)).toEqual(new Set(many));
  }, 60_000);
});
