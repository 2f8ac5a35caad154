/**
 * Design §6.4: one deadline per GraphQL operation, retries and waits included. A document whose first
 * field used most of it leaves the next field only what remains: an execute cut by it is an unknown
 * outcome (retry with the same key), and the retry finds the one payout ZoPay made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTE, gql, QUOTE, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';
import { until } from '../helpers/subscribe.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ env: { ZOPAY_OPERATION_DEADLINE_MS: '1500', ZOPAY_MAX_ATTEMPTS: '1', MUTATION_RATE_LIMIT_PER_MINUTE: '1000' } });
  stack.sandbox.setWebhookUrl(null);
  token = await stack.token('deadline-app');
});
afterAll(() => stack.close());

describe('one deadline per operation', () => {
  it('an execute after a slow createQuote in the same document gets what is left of the deadline, not a whole one', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    // The quote takes 1 s of the 1.5 s; the execute would take 1 s more.
    stack.sandbox.faults.inject({ route: 'quote', kind: 'slow', delayMs: 1_000, times: 1 });
    stack.sandbox.faults.inject({ route: 'execute', kind: 'slow', delayMs: 1_000, times: 1 });
    const both = `mutation {
      q: createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "+237670000001" } }) { __typename }
      e: executeDisbursement(input: { quoteId: "${quoteId}", idempotencyKey: "deadline-1", recipient: { msisdn: "+237670000001" } }) { __typename ... on Payout { id } }
    }`;
    const res = await gql(stack.gateway.url, both, {}, token);
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code'], e.extensions?.['outcomeUnknown']])).toEqual([['e', 'UPSTREAM_UNAVAILABLE', true]]);

    // ZoPay finishes the work it received; the retry with the same key finds that one payout.
    await until(() => stack.sandbox.ledger.payouts().some((p) => p.quoteId === quoteId), 5_000, 'the payout committed at ZoPay');
    const retry = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(stack.gateway.url, EXECUTE, { input: { quoteId, idempotencyKey: 'deadline-1', recipient: { msisdn: '+237670000001' } } }, token);
    const atZoPay = stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
    expect(atZoPay).toHaveLength(1);
    expect(retry.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
  });

  it('an execute left with less than the answer margin (a tenth of the deadline) is not sent: nothing paid, the key free', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    // The quote takes 1.42 s of the 1.5 s: about 80 ms are left, under the 150 ms margin.
    stack.sandbox.faults.inject({ route: 'quote', kind: 'slow', delayMs: 1_420, times: 1 });
    const executes = () => stack.sandbox.requests.filter((r) => r.route === 'execute').length;
    const before = executes();
    const both = `mutation {
      q: createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "+237670000001" } }) { __typename }
      e: executeDisbursement(input: { quoteId: "${quoteId}", idempotencyKey: "deadline-2", recipient: { msisdn: "+237670000001" } }) { __typename ... on Payout { id } }
    }`;
    const res = await gql(stack.gateway.url, both, {}, token);
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code'], e.extensions?.['retrySafe'], e.extensions?.['outcomeUnknown']])).toEqual([['e', 'UPSTREAM_UNAVAILABLE', true, undefined]]);
    expect(executes()).toBe(before);
    // Nothing was sent: the same key pays, once.
    const retry = await gql<{ executeDisbursement: { __typename: string } }>(stack.gateway.url, EXECUTE, { input: { quoteId, idempotencyKey: 'deadline-2', recipient: { msisdn: '+237670000001' } } }, token);
    expect(retry.data?.executeDisbursement.__typename).toBe('Payout');
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
  });
});
