import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTE, PAYOUT, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';
import { sseSubscribe, wsClient, wsSubscribe } from '../helpers/subscribe.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ sandbox: { processingDelayMs: 300, resolveOnFirstCheck: false } });
  token = await stack.token('merchant-app-1');
});
afterAll(() => stack.close());

describe('quote → execute → payout', () => {
  it('quotes with locked fees and a positive merchant debit', async () => {
    const res = await gql<{ createQuote: Record<string, unknown> }>(stack.gateway.url, QUOTE, quoteInput(), token);
    const q = res.data?.createQuote;
    expect(q?.__typename).toBe('Quote');
    expect(Number(q?.amount)).toBe(5000);
    expect(q?.currency).toBe('XAF');
    expect(q?.recipient).toEqual({ msisdn: '+237670000001' });
    const debit = Number(q?.merchantDebit);
    expect(debit).toBe(5000 + Number(q?.gatewayFee) + Number(q?.platformFee));
    expect(Date.parse(String(q?.expiresAt))).toBeGreaterThan(Date.now());
  });

  it('executes a quote into a PROCESSING payout, then reads SUCCESS with details', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(), token);
    const e = await gql<{ executeDisbursement: Record<string, unknown> }>(
      stack.gateway.url,
      EXECUTE,
      { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'flow-1', recipient: { msisdn: '+237670000001' } } },
      token,
    );
    const payout = e.data?.executeDisbursement;
    expect(payout?.__typename).toBe('Payout');
    expect(payout?.status).toBe('PROCESSING');
    expect(payout?.isFinal).toBe(false);

    await expect
      .poll(async () => (await gql<{ payout: { status: string } }>(stack.gateway.url, PAYOUT, { id: payout?.id }, token)).data?.payout?.status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe('SUCCESS');
    const read = await gql<{ payout: Record<string, unknown> }>(stack.gateway.url, PAYOUT, { id: payout?.id }, token);
    expect(read.data?.payout).toMatchObject({ isFinal: true, currency: 'XAF', recipient: { msisdn: '+237670000001' }, failure: null });
    // ZoPay writes "5000" in webhooks and "5000.00" in GET; clients get one canonical form everywhere.
    expect(read.data?.payout).toMatchObject({ amount: '5000', gatewayFee: expect.stringMatching(/^\d+(\.\d*[1-9])?$/), totalAmount: expect.stringMatching(/^\d+(\.\d*[1-9])?$/) });
    const list = await gql<{ payouts: { edges: { node: { id: string; amount: string; totalAmount: string; gatewayFee: string } }[] } }>(
      stack.gateway.url,
      'query { payouts(first: 50) { edges { node { id amount totalAmount gatewayFee } } } }',
      {},
      token,
    );
    const listed = list.data?.payouts.edges.find((e) => e.node.id === payout?.id)?.node;
    expect(listed).toEqual({ id: payout?.id, amount: '5000', totalAmount: read.data?.payout?.totalAmount, gatewayFee: read.data?.payout?.gatewayFee });
    expect(read.data?.payout?.completedAt).toEqual(expect.any(String));
  });

  it('reports an asynchronous failure with its reason', async () => {
    const msisdn = '+237670000004';
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(msisdn), token);
    const e = await gql<{ executeDisbursement: { id: string } }>(
      stack.gateway.url,
      EXECUTE,
      { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'flow-declined', recipient: { msisdn } } },
      token,
    );
    await expect
      .poll(async () => (await gql<{ payout: { status: string } }>(stack.gateway.url, PAYOUT, { id: e.data?.executeDisbursement.id }, token)).data?.payout?.status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe('FAILED');
    const read = await gql<{ payout: { failure: { code: string | null; message: string } | null } }>(stack.gateway.url, PAYOUT, { id: e.data?.executeDisbursement.id }, token);
    expect(read.data?.payout.failure?.message).toMatch(/declined/i);
    // The webhook carries only the reason; ZoPay's read of the final brings the code clients branch on.
    expect(read.data?.payout.failure?.code).toBe('DECLINED');
  });

  it("a subscriber's final FAILED event carries the failure code, though the webhook gives only the reason", async () => {
    const msisdn = '+237670000004';
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(msisdn), token);
    const e = await gql<{ executeDisbursement: { id: string } }>(stack.gateway.url, EXECUTE, { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'flow-failure-code', recipient: { msisdn } } }, token);
    const id = e.data?.executeDisbursement.id as string;
    const query = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status failure { code message } } }';
    const client = wsClient(stack.gateway.url, token);
    const subs = [wsSubscribe(client, id, query), sseSubscribe(stack.gateway.url, token, id, query)];
    try {
      for (const sub of subs) {
        expect(await sub.done).toBe('complete');
        expect(sub.errors).toEqual([]);
        expect(sub.events.at(-1)).toMatchObject({ id, status: 'FAILED', failure: { code: 'DECLINED', message: expect.stringMatching(/declined/i) } });
      }
    } finally {
      await Promise.all(subs.map((sub) => sub.close()));
      await client.dispose();
    }
  });

  it('a retry with the same key after the payout finished answers the same payout as it is now, without a second execute', async () => {
    const REPLAY = `mutation R($input: ExecuteDisbursementInput!) {
      executeDisbursement(input: $input) { __typename ... on Payout { id status isFinal completedAt failure { message } } }
    }`;
    for (const [msisdn, final] of [['+237670000004', 'FAILED'], ['+237670000001', 'SUCCESS']] as const) {
      const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(msisdn), token);
      const input = { input: { quoteId: q.data?.createQuote.id, idempotencyKey: `flow-replay-${final}`, recipient: { msisdn } } };
      type Replay = { executeDisbursement: { __typename: string; id: string; status: string; isFinal: boolean; completedAt: string | null; failure: { message: string } | null } };
      const first = await gql<Replay>(stack.gateway.url, REPLAY, input, token);
      expect(first.data?.executeDisbursement).toMatchObject({ status: 'PROCESSING', isFinal: false });
      const id = first.data?.executeDisbursement.id;
      await expect
        .poll(async () => (await gql<{ payout: { status: string } }>(stack.gateway.url, PAYOUT, { id }, token)).data?.payout?.status, { timeout: 10_000, interval: 200 })
        .toBe(final);
      const executes = stack.sandbox.requests.filter((r) => r.route === 'execute').length;

      const again = await gql<Replay>(stack.gateway.url, REPLAY, input, token);
      expect(again.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id, status: final, isFinal: true, completedAt: expect.any(String) });
      if (final === 'FAILED') expect(again.data?.executeDisbursement.failure?.message).toMatch(/declined/i);
      // Answered from the gateway's records: nothing sent to ZoPay.
      expect(stack.sandbox.requests.filter((r) => r.route === 'execute').length).toBe(executes);
    }
  });

  it('sends ZoPay exactly its documented body fields', async () => {
    const before = stack.sandbox.requests.length;
    const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(), token);
    await gql(stack.gateway.url, EXECUTE, { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'fields-1', recipient: { msisdn: '+237670000001' } } }, token);
    const sent = stack.sandbox.requests.slice(before);
    const quoteReq = sent.find((r) => r.route === 'quote');
    const execReq = sent.find((r) => r.route === 'execute');
    expect(Object.keys(JSON.parse(quoteReq?.body ?? '{}'))).toEqual(['gateway', 'transaction_type', 'amount', 'currency', 'recipient']);
    const body = JSON.parse(execReq?.body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['quote_id', 'idempotency_key', 'recipient']);
    expect(body['recipient']).toEqual({ msisdn: '+237670000001' });
    expect(String(body['idempotency_key'])).not.toContain('fields-1');
    for (const r of sent) expect(r.status).toBeLessThan(300);
  });
});
