import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
type Page = { payouts: { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null }; edges: { node: { id: string } }[] } };

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
