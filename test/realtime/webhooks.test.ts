import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { gql, pay, PAYOUT, startStack, type TestStack } from '../helpers/gateway.js';
import { until, wsClient, wsSubscribe } from '../helpers/subscribe.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;
let listener: Redis;
const published: { channel: string; message: string }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ instances: 2, env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '600000' } });
  stack.sandbox.setWebhookUrl(null); // these tests deliver webhooks by hand
  token = await stack.token('webhook-app');
  listener = redis.client();
  await listener.psubscribe('zopay:payout:*');
  listener.on('pmessage', (_p, channel, message) => published.push({ channel, message }));
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

function body(payoutId: string, event: 'payout.completed' | 'payout.failed' | 'payout.processing' = 'payout.completed'): string {
  const status = event === 'payout.completed' ? 'SUCCESS' : event === 'payout.failed' ? 'FAILED' : 'PROCESSING';
  return JSON.stringify({
    event,
    data: { payout_id: payoutId, merchant_id: 'm', amount: '5000', currency: 'XAF', gateway: 'MTN_MOMO', recipient_msisdn: '237670000005', status, fees: '75', total_deducted: '5075', created_at: new Date().toISOString() },
    timestamp: new Date().toISOString(),
  });
}

async function deliver(raw: string, opts: { deliveryId: string; event?: string; timestampMs?: number; skewMs?: number; secret?: string; tamper?: (h: Record<string, string>) => void; instance?: number }) {
  const headers = signedWebhookHeaders({
    secret: opts.secret ?? SANDBOX_DEFAULTS.webhookSecret,
    rawBody: raw,
    event: opts.event ?? (JSON.parse(raw) as { event: string }).event,
    deliveryId: opts.deliveryId,
    // skewMs: relative to the moment of sending (a timestamp fixed when the test file loads drifts).
    timestampMs: opts.timestampMs ?? Date.now() + (opts.skewMs ?? 0),
  });
  opts.tamper?.(headers);
  const res = await fetch(`${stack.gateways[opts.instance ?? 0]?.url}/webhooks/zopay`, { method: 'POST', headers, body: raw });
  return res.status;
}

const channelEvents = (id: string) => published.filter((p) => p.channel === `zopay:payout:${id}`).length;

describe('POST /webhooks/zopay', () => {
  it('processes a delivery id once however often it arrives', async () => {
    const id = await pay(stack.gateway.url, token, 'dup-1', '+237670000005');
    const client = wsClient(stack.gateways[1]?.url as string, token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');
    const raw = body(id);
    expect(await Promise.all([deliver(raw, { deliveryId: 'd-dup-1' }), deliver(raw, { deliveryId: 'd-dup-1' }), deliver(raw, { deliveryId: 'd-dup-1', instance: 1 })])).toEqual([200, 200, 200]);
    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await until(() => channelEvents(id) >= 1, 2_000, 'publish');
    await new Promise((r) => setTimeout(r, 200));
    expect(channelEvents(id)).toBe(1);
    await client.dispose();
  });

  it('records and publishes an advance in one script call: the PUBLISH runs inside Lua, no separate round trip', async () => {
    const id = await pay(stack.gateway.url, token, 'one-trip-1', '+237670000005');
    // A first delivery loads the script into Redis' script cache (EVALSHA, then EVAL once on NOSCRIPT).
    const warm = await pay(stack.gateway.url, token, 'one-trip-0', '+237670000005');
    expect(await deliver(body(warm), { deliveryId: 'd-one-trip-0' })).toBe(200);
    // MONITOR shows every command the server runs; a script's own calls come with "lua" as their source.
    const base = redis.client();
    const monitor = await base.monitor();
    const lines: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => lines.push(`${source}|${args[0]?.toLowerCase()}|${args.slice(1).join(' ')}`));
    expect(await deliver(body(id), { deliveryId: 'd-one-trip-1' })).toBe(200);
    await until(() => channelEvents(id) >= 1, 2_000, 'publish');
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    const mine = lines.filter((l) => l.includes(id) || l.includes(`payout:${id}`));
    const publishes = mine.filter((l) => l.split('|')[1] === 'publish');
    expect(publishes).toHaveLength(1);
    expect(publishes[0]?.startsWith('lua|')).toBe(true);
    // From the gateway's connection: the one script call, and no other command about this payout.
    expect(mine.filter((l) => !l.startsWith('lua|')).map((l) => l.split('|')[1])).toEqual(['evalsha']);
  });

  it('never moves a payout backwards: SUCCESS then a stale PROCESSING, and a conflicting FAILED', async () => {
    const id = await pay(stack.gateway.url, token, 'order-1', '+237670000005');
    expect(await deliver(body(id, 'payout.completed'), { deliveryId: 'd-order-1' })).toBe(200);
    expect(await deliver(body(id, 'payout.processing'), { deliveryId: 'd-order-2' })).toBe(200);
    expect(await deliver(body(id, 'payout.failed'), { deliveryId: 'd-order-3' })).toBe(200);
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('SUCCESS');
    await new Promise((r) => setTimeout(r, 200));
    expect(channelEvents(id)).toBe(1);
  });

  it('keeps the first final when a webhook and then ZoPay\'s own read report another (T25): nothing of the other outcome shows, and both are counted', async () => {
    const conflicts = async () => {
      const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
      const value = (source: string) => Number(new RegExp(`^payout_final_conflicts_total\\{source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { webhook: value('webhook'), read: value('read') };
    };
    const id = await pay(stack.gateway.url, token, 'conflict-read-1', '+237670000005');
    expect(await deliver(body(id, 'payout.failed'), { deliveryId: 'd-conflict-read-1' })).toBe(200);
    // ZoPay's record then says SUCCESS (with a completion time), and its webhook says so too.
    stack.sandbox.settle(id, 'SUCCESS');
    const before = await conflicts();
    expect(await deliver(body(id, 'payout.completed'), { deliveryId: 'd-conflict-read-2' })).toBe(200);
    await until(async () => (await conflicts()).read > before.read, 5_000, 'the read-back of the conflicting payout');
    expect(await conflicts()).toEqual({ webhook: before.webhook + 1, read: before.read + 1 });
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('FAILED');
    // A reader sees the stored FAILED alone: not the SUCCESS read's completedAt beside it.
    const res = await gql<{ payout: Record<string, unknown> }>(stack.gateway.url, PAYOUT, { id }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.payout).toMatchObject({ id, status: 'FAILED', isFinal: true, completedAt: null });
    // Counted and logged once, and not read again: later reads are served from the store.
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
    const getsBefore = gets();
    for (let i = 0; i < 3; i++) {
      // Still with what ZoPay's read showed besides its outcome (the webhook carries no fee split).
      const again = await gql<{ payout: { status: string; gatewayFee: string | null; completedAt: string | null } }>(stack.gateway.url, PAYOUT, { id }, token);
      expect(again.data?.payout).toMatchObject({ status: 'FAILED', gatewayFee: expect.any(String), completedAt: null });
    }
    expect(gets()).toBe(getsBefore);
    // The back office's list (ZoPay's own list, which says SUCCESS) shows the same: the stored final.
    const ops = await stack.token('ops-conflict', 'payouts:read');
    const listed = await gql<{ payouts: { edges: { node: { id: string; status: string; completedAt: string | null } }[] } }>(
      stack.gateway.url,
      'query { payouts(first: 100) { edges { node { id status completedAt } } } }',
      {},
      ops,
    );
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.payouts.edges.find((e) => e.node.id === id)?.node).toEqual({ id, status: 'FAILED', completedAt: null });
    expect(await conflicts()).toEqual({ webhook: before.webhook + 1, read: before.read + 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(channelEvents(id)).toBe(1);
  });

  it('announces an advance a read found before the webhook: the webhook then finds it stored and publishes nothing, and subscribers must not wait for their reconciler', async () => {
    const id = await pay(stack.gateway.url, token, 'read-ahead-1', '+237670000005');
    const client = wsClient(stack.gateways[1]?.url as string, token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');
    stack.sandbox.settle(id, 'SUCCESS');
    // A reader on the other instance reads the final first (reconciliation is off in this file).
    const read = await gql<{ payout: { status: string } }>(stack.gateway.url, PAYOUT, { id }, token);
    expect(read.data?.payout.status).toBe('SUCCESS');
    await until(() => sub.events.some((e) => e.status === 'SUCCESS'), 5_000, 'the final from the read');
    expect(await deliver(body(id, 'payout.completed'), { deliveryId: 'd-read-ahead-1' })).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await client.dispose();
  });

  it("keeps a FAILED payout's failure code after the back office lists it (a list item carries no error)", async () => {
    const id = await pay(stack.gateway.url, token, 'list-failed-1', '+237670000003');
    stack.sandbox.settle(id, 'FAILED');
    const ops = await stack.token('ops-list-failed', 'payouts:read');
    const listed = await gql<{ payouts: { edges: { node: { id: string; status: string } }[] } }>(stack.gateway.url, 'query { payouts(first: 100) { edges { node { id status } } } }', {}, ops);
    expect(listed.data?.payouts.edges.find((e) => e.node.id === id)?.node.status).toBe('FAILED');
    const res = await gql<{ payout: { status: string; failure: { code: string | null; message: string } | null } }>(stack.gateway.url, PAYOUT, { id }, token);
    expect(res.data?.payout.status).toBe('FAILED');
    expect(res.data?.payout.failure?.code).toEqual(expect.any(String));
  });

  it('a back-office list selecting failure gives its code, read once per payout as payout(id) reads it (the list carries none)', async () => {
    const id = await pay(stack.gateway.url, token, 'list-failed-code-1', '+237670000004');
    stack.sandbox.settle(id, 'FAILED');
    const ops = await stack.token('ops-list-failed-code', 'payouts:read');
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
    const before = gets();
    const list = 'query { payouts(first: 100) { edges { node { id status failure { code message } } } } }';
    const listed = await gql<{ payouts: { edges: { node: { id: string; status: string; failure: { code: string | null; message: string } | null } }[] } }>(stack.gateway.url, list, {}, ops);
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.payouts.edges.find((e) => e.node.id === id)?.node).toEqual({ id, status: 'FAILED', failure: { code: 'DECLINED', message: expect.any(String) } });
    expect(gets()).toBe(before + 1);
    // Recorded from that read: the next list needs no GET for it.
    const again = await gql<{ payouts: { edges: { node: { id: string; failure: { code: string | null } | null } }[] } }>(stack.gateway.url, list, {}, ops);
    expect(again.data?.payouts.edges.find((e) => e.node.id === id)?.node.failure?.code).toBe('DECLINED');
    expect(gets()).toBe(before + 1);
  });

  it('serves the status it holds when ZoPay fails to answer a read (5xx) before the breaker opens: not an error, not null', async () => {
    const id = await pay(stack.gateway.url, token, 'read-5xx-1', '+237670000004');
    const failed = JSON.parse(body(id, 'payout.failed')) as { data: Record<string, unknown> };
    failed.data['failure_reason'] = 'Declined'; // what ZoPay's payout.failed carries: the reason, no code
    expect(await deliver(JSON.stringify(failed), { deliveryId: 'd-read-5xx-1' })).toBe(200);
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
    const before = gets();
    stack.sandbox.faults.inject({ route: 'get', kind: 'http500', times: 50 });
    try {
      const res = await gql<{ payout: { id: string; status: string; failure: { code: string | null; message: string } | null } | null }>(
        stack.gateways[1]?.url ?? '',
        'query P($id: ID!) { payout(id: $id) { id status failure { code message } } }',
        { id },
        token,
      );
      expect(gets()).toBeGreaterThan(before); // ZoPay was asked (the breaker did not answer for it)
      expect(res.errors).toBeUndefined();
      expect(res.data?.payout).toEqual({ id, status: 'FAILED', failure: { code: null, message: 'Declined' } });
    } finally {
      stack.sandbox.faults.clear();
    }
  });

  it("serves a payout it recorded when ZoPay's read does not find it (a read side lagging the write): not null", async () => {
    // What an accepted execute leaves (status and owner), for a payout ZoPay's GET answers 404 to.
    const id = 'po_read_lag_1';
    const { payouts, owners } = stack.gateway.state.stores;
    await payouts.apply({ id, status: 'PROCESSING', rawStatus: 'PROCESSING', source: 'execute', gatewayReference: 'REF-LAG' });
    await owners.setOwner(id, 'webhook-app');
    const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get' && r.path.endsWith(id)).length;
    const res = await gql<{ payout: { id: string; status: string } | null }>(stack.gateway.url, PAYOUT, { id }, token);
    expect(gets()).toBe(1);
    expect(res.errors).toBeUndefined();
    expect(res.data?.payout).toMatchObject({ id, status: 'PROCESSING' });
  });

  it('keys a delivery id too long for a store key by its hash (retries stay duplicates), and ignores a payout id longer than any it records', async () => {
    const send = async (raw: string, deliveryId: string) => {
      const headers = signedWebhookHeaders({ secret: SANDBOX_DEFAULTS.webhookSecret, rawBody: raw, event: 'payout.completed', deliveryId, timestampMs: Date.now() });
      const res = await fetch(`${stack.gateway.url}/webhooks/zopay`, { method: 'POST', headers, body: raw });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const id = await pay(stack.gateway.url, token, 'long-delivery-1', '+237670000005');
    const longId = 'e'.repeat(5_000);
    // Once answered 503 (a store refused the key), so ZoPay would have retried until it gave up.
    expect(await send(body(id), longId)).toEqual({ status: 200, body: { status: 'accepted' } });
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('SUCCESS');
    expect(await send(body(id), longId)).toEqual({ status: 200, body: { status: 'duplicate' } });
    // Another id of the same length and prefix is another delivery.
    expect(await send(body(id), `${'e'.repeat(4_999)}f`)).toEqual({ status: 200, body: { status: 'accepted' } });

    const longPayout = 'p'.repeat(2_000);
    expect(await send(body(longPayout), 'd-long-payout-1')).toEqual({ status: 200, body: { status: 'ignored' } });
    // An empty delivery id counts as none: the event itself is the key.
    const other = await pay(stack.gateway.url, token, 'long-delivery-2', '+237670000005');
    expect(await send(body(other), '')).toEqual({ status: 200, body: { status: 'accepted' } });
    expect(await send(body(other), '')).toEqual({ status: 200, body: { status: 'duplicate' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(channelEvents(id)).toBe(1);
    expect(channelEvents(longPayout)).toBe(0);
  });

  const attacks: [string, Parameters<typeof deliver>[1], number][] = [
    ['a bad signature', { deliveryId: 'a1', tamper: (h) => (h['x-zo-signature'] = 'a'.repeat(64)) }, 401],
    ['a wrong secret', { deliveryId: 'a2', secret: 'whsec_wrong' }, 401],
    ['a stale timestamp (−301 s)', { deliveryId: 'a3', skewMs: -301_000 }, 401],
    ['a future timestamp (+301 s)', { deliveryId: 'a4', skewMs: 301_000 }, 401],
    ['no signature', { deliveryId: 'a5', tamper: (h) => delete h['x-zo-signature'] }, 401],
    ['a short signature', { deliveryId: 'a6', tamper: (h) => (h['x-zo-signature'] = 'abc') }, 401],
    ['a non-numeric timestamp', { deliveryId: 'a7', tamper: (h) => (h['x-zo-timestamp'] = 'yesterday') }, 401],
  ];
  it.each(attacks)('rejects %s and records and publishes nothing', async (_name, opts, status) => {
    const id = await pay(stack.gateway.url, token, `attack-${opts.deliveryId}`, '+237670000005');
    expect(await deliver(body(id), opts)).toBe(status);
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('PROCESSING');
    expect(channelEvents(id)).toBe(0);
  });

  it('rejects a tampered body signed for the original', async () => {
    const id = await pay(stack.gateway.url, token, 'tamper-1', '+237670000005');
    const original = body(id, 'payout.failed');
    const headers = signedWebhookHeaders({ secret: SANDBOX_DEFAULTS.webhookSecret, rawBody: original, event: 'payout.failed', deliveryId: 't1', timestampMs: Date.now() });
    const res = await fetch(`${stack.gateway.url}/webhooks/zopay`, { method: 'POST', headers, body: original.replace('FAILED', 'SUCCESS').replace('payout.failed', 'payout.completed') });
    expect(res.status).toBe(401);
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('PROCESSING');
  });

  it('accepts a signed body with unusual whitespace and key order (verification is on raw bytes)', async () => {
    const id = await pay(stack.gateway.url, token, 'ws-1', '+237670000005');
    const raw = `{ "timestamp" : "2026-01-01T00:00:00.000Z",\n  "data": {"status":"SUCCESS", "payout_id": "${id}"},  "event":"payout.completed" }`;
    expect(await deliver(raw, { deliveryId: 'w1', event: 'payout.completed' })).toBe(200);
    expect((await stack.gateway.state.stores.payouts.get(id))?.status).toBe('SUCCESS');
  });

  it('answers 413 for an oversized body before verifying it', async () => {
    const res = await fetch(`${stack.gateway.url}/webhooks/zopay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5_000_000) });
    expect(res.status).toBe(413);
  });

  it('answers another method on the webhook path with 405 and the method it takes; an unknown path stays 404', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${stack.gateway.url}/webhooks/zopay`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow'), method).toBe('POST');
    }
    const metrics = await fetch(`${stack.gateway.url}/metrics`, { method: 'POST' });
    expect([metrics.status, metrics.headers.get('allow')]).toEqual([405, 'GET']);
    expect((await fetch(`${stack.gateway.url}/webhooks/other`)).status).toBe(404);
  });

  it('acknowledges events it does not handle', async () => {
    const raw = JSON.stringify({ event: 'settlement.generated', data: { settlement_id: 's1' }, timestamp: new Date().toISOString() });
    expect(await deliver(raw, { deliveryId: 's-1' })).toBe(200);
  });
});

describe('T30: webhook secret rotation', () => {
  const PREVIOUS = 'whsec_previous_rotation_secret_0123456789';
  let rotating: TestStack;
  let windowEnd = 0;
  beforeAll(async () => {
    windowEnd = Date.now() + 2_500;
    rotating = await startStack({ env: { ZOPAY_WEBHOOK_SECRET_PREVIOUS: PREVIOUS, ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: new Date(windowEnd).toISOString() } });
    rotating.sandbox.setWebhookUrl(null);
  });
  afterAll(() => rotating.close());

  async function send(secret: string, deliveryId: string): Promise<number> {
    const raw = body('po_rotation_1', 'payout.processing');
    const headers = signedWebhookHeaders({ secret, rawBody: raw, event: 'payout.processing', deliveryId, timestampMs: Date.now() });
    return (await fetch(`${rotating.gateway.url}/webhooks/zopay`, { method: 'POST', headers, body: raw })).status;
  }

  it('accepts the old and the new secret inside the window, and refuses the old one after it by itself', async () => {
    expect(await send(PREVIOUS, 'rot-1')).toBe(200);
    expect(await send(SANDBOX_DEFAULTS.webhookSecret, 'rot-2')).toBe(200);
    expect(await send('whsec_someone_else_0123456789abcdef', 'rot-3')).toBe(401);
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now() + 50)));
    expect(await send(PREVIOUS, 'rot-4')).toBe(401);
    expect(await send(SANDBOX_DEFAULTS.webhookSecret, 'rot-5')).toBe(200);
  });
});
