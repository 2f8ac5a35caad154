/**
 * A subscription sent over HTTP by a client that accepts no stream (`accept: application/json`, as a
 * careless curl or fetch does). GraphQL over HTTP answers 406; Yoga subscribed first and left that
 * subscription open, so each such request held one of the caller's SUBSCRIPTIONS_PER_CALLER slots until
 * the payout ended: a few of them locked the caller out of subscriptions. Now the answer says how to
 * subscribe and nothing stays open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, pay, type TestStack } from '../helpers/gateway.js';
import { MSISDN_PENDING, sse, waitFor } from '../security/support.js';

const SUBSCRIPTION = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }';

let stack: TestStack;
let token: string;
let payoutId: string;

beforeAll(async () => {
  stack = await startStack({ env: { SUBSCRIPTIONS_PER_CALLER: '2' } });
  token = await stack.token('accept-app', 'payouts:write payouts:read');
  payoutId = await pay(stack.gateway.url, token, 'accept-1', MSISDN_PENDING);
});
afterAll(() => stack.close());

/** Subscriptions counted as failed to start (graphql_operations_total, type subscription, outcome error). */
async function subscriptionErrors(): Promise<number> {
  const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('graphql_operations_total{') && l.includes('type="subscription"') && l.includes('outcome="error"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function activeSubscriptions(): Promise<number> {
  const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('graphql_subscriptions_active '));
  return Number(line?.split(' ')[1]);
}

describe('a subscription asked for as plain JSON', () => {
  it('gets 406 with a GraphQL error saying how to subscribe, holds no subscription slot, and the caller can still subscribe over SSE', async () => {
    const requests = [
      () =>
        fetch(`${stack.gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: SUBSCRIPTION, variables: { id: payoutId } }),
        }),
      () =>
        fetch(`${stack.gateway.url}/graphql?${new URLSearchParams({ query: SUBSCRIPTION, variables: JSON.stringify({ id: payoutId }) }).toString()}`, {
          headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' },
        }),
    ];
    // More than the caller's cap of 2: before the fix the third was already refused.
    for (let i = 0; i < 5; i++) {
      const res = await (requests[i % 2] as () => Promise<Response>)();
      expect(res.status).toBe(406);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('accept')).toContain('text/event-stream');
      expect(await res.json()).toEqual({
        errors: [
          {
            message: 'A subscription answers with a stream of results: subscribe over graphql-ws, or send "Accept: text/event-stream" (SSE).',
            extensions: { code: 'BAD_REQUEST' },
          },
        ],
      });
    }
    await waitFor(async () => (await activeSubscriptions()) === 0, 2_000, 'no live subscription left behind');

    const streams = [sse(stack.gateway.url, SUBSCRIPTION, { id: payoutId }, token), sse(stack.gateway.url, SUBSCRIPTION, { id: payoutId }, token)];
    try {
      await waitFor(() => streams.every((s) => s.payloads.length > 0), 5_000, 'both SSE snapshots');
      for (const s of streams) expect(s.payloads[0]).toEqual({ data: { payoutStatus: { id: payoutId, status: expect.any(String) } } });
      expect(await activeSubscriptions()).toBe(2);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('gets the same 406 whatever the payout (unknown, another caller\'s, malformed), before the resolver runs', async () => {
    const other = await stack.token('accept-other', 'payouts:write');
    const asked: [string, string][] = [
      ['an unknown payout', 'po_does_not_exist'],
      ["another caller's payout", payoutId],
      ['a malformed id', 'po/1'],
    ];
    for (const [what, id] of asked) {
      const before = stack.sandbox.requests.length;
      const res = await fetch(`${stack.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${other}` },
        body: JSON.stringify({ query: SUBSCRIPTION, variables: { id } }),
      });
      expect(res.status, what).toBe(406);
      expect(((await res.json()) as { errors: { extensions: unknown }[] }).errors.map((e) => e.extensions), what).toEqual([{ code: 'BAD_REQUEST' }]);
      // Nothing was looked up for it.
      expect(stack.sandbox.requests.length, what).toBe(before);
    }
  });

  it.each([
    ['no Accept', undefined],
    ['*/*', '*/*'],
    ['text/*', 'text/*'],
    ['text/event-stream among others, with a q', 'application/json, text/event-stream;q=0.5'],
  ])('an Accept that takes the stream (%s) gets SSE', async (_name, accept) => {
    const res = await fetch(`${stack.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
      body: JSON.stringify({ query: SUBSCRIPTION, variables: { id: payoutId } }),
    });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes('payoutStatus')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain(`"id":"${payoutId}"`);
      await reader.cancel();
    } finally {
      await res.body?.cancel().catch(() => undefined);
    }
    // Released, so the next case is not refused by the caller's cap of 2.
    await waitFor(async () => (await activeSubscriptions()) === 0, 2_000, 'the stream released');
  });

  it.each([
    ['no Accept', undefined],
    ['*/*', '*/*'],
    ['text/event-stream', 'text/event-stream'],
  ])('one that cannot start gets SSE too (%s): its error as a `next` event, then `complete`', async (_name, accept) => {
    const other = await stack.token('accept-other', 'payouts:write');
    const cases: [string, string, Record<string, string>][] = [
      ['an unknown payout', 'po_does_not_exist', { authorization: `Bearer ${other}` }],
      ["another caller's payout", payoutId, { authorization: `Bearer ${other}` }],
      ['no token', payoutId, {}],
    ];
    const errorsBefore = await subscriptionErrors();
    for (const [what, id, auth] of cases) {
      const res = await fetch(`${stack.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...(accept ? { accept } : {}) },
        body: JSON.stringify({ query: SUBSCRIPTION, variables: { id } }),
      });
      expect(res.headers.get('content-type'), what).toMatch(/^text\/event-stream/);
      const text = await res.text();
      const events = text.split('\n\n').map((frame) => frame.split('\n').find((l) => l.startsWith('event:'))).filter((e) => e !== undefined);
      expect(events, what).toEqual(['event: next', 'event: complete']);
      const data = text.split('\n').find((l) => l.startsWith('data: {'));
      const code = (JSON.parse(data?.slice('data: '.length) ?? '{}') as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
      expect(code, what).toBe(what === 'no token' ? 'UNAUTHENTICATED' : 'NOT_FOUND');
    }
    expect(await activeSubscriptions()).toBe(0);
    // Each is counted as a subscription that failed, so refusals show up in the metrics.
    expect((await subscriptionErrors()) - errorsBefore).toBe(cases.length);
  });

  it('a query asked for in a media type the gateway does not serve still gets Yoga\'s plain 406', async () => {
    const res = await fetch(`${stack.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(406);
    expect(await res.text()).toBe('');
  });
});
