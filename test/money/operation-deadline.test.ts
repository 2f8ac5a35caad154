/**
 * Design §6.4: one deadline per GraphQL operation, retries and waits included. A document whose first
 * field used most of it leaves the next field only what remains: an execute cut by it is an unknown
 * outcome (retry with the same key), and the retry finds the one payout ZoPay made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTE, gql, QUOTE, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';
import { until } from '../helpers/subscribe.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';

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

describe('a duplicate on another instance (one Redis)', () => {
  let redis: RedisServerHandle;
  let pair: TestStack;
  beforeAll(async () => {
    redis = await startRedis();
    pair = await startStack({ instances: 2, env: { REDIS_URL: redis.url, ZOPAY_OPERATION_DEADLINE_MS: '1500', ZOPAY_MAX_ATTEMPTS: '1', MUTATION_RATE_LIMIT_PER_MINUTE: '1000' } });
    pair.sandbox.setWebhookUrl(null);
  });
  afterAll(async () => {
    await pair.close();
    await redis.stop();
  });

  it('stops waiting while half its deadline is left: "in progress", not a late resume that ends unknown', async () => {
    const q = await gql<{ createQuote: { id: string } }>(pair.gateway.url, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    const executes = () => pair.sandbox.requests.filter((r) => r.route === 'execute').length;
    const before = executes();
    // The first attempt: ZoPay pays and never answers, so it holds the key until its deadline (1.5 s). The
    // next execute ZoPay receives takes 600 ms: more than a resume taken late in a wait would have left.
    pair.sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 1 });
    pair.sandbox.faults.inject({ route: 'execute', kind: 'slow', delayMs: 600, times: 1 });
    const variables = { input: { quoteId, idempotencyKey: 'deadline-3', recipient: { msisdn: '+237670000001' } } };
    const first = gql(pair.gateways[0]?.url as string, EXECUTE, variables, token);
    await until(() => executes() === before + 1, 1_000, 'the first attempt reached ZoPay');
    // On the other instance: on the same one it would join the first attempt's call.
    const duplicate = await gql<{ executeDisbursement: { __typename: string } }>(pair.gateways[1]?.url as string, EXECUTE, variables, token);
    // It gave up waiting at 0.75 s of its 1.5 s, while the first attempt still held the key; nothing sent.
    expect(duplicate.errors ?? []).toEqual([]);
    expect(duplicate.data?.executeDisbursement.__typename).toBe('IdempotencyKeyInProgressError');
    expect(executes()).toBe(before + 1);
    const answered = await first;
    expect(answered.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['outcomeUnknown']])).toEqual([['UPSTREAM_UNAVAILABLE', true]]);

    // The retry resumes with a whole deadline and finds the one payout.
    const retry = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(pair.gateway.url, EXECUTE, variables, token);
    const atZoPay = pair.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
    expect(atZoPay).toHaveLength(1);
    expect(retry.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
  });
});
