import { describe, expect, it } from 'vitest';
import { at, call, getPayout, MTN, payout, plain, sandboxFor, waitUntil, webhookReceiver } from './helpers.js';

const LIST = { path: '/api/v1/disbursements' } as const;

describe('the /__sandbox control API', () => {
  it('injects and clears request faults over HTTP', async () => {
    const sb = await sandboxFor();
    const injected = await plain(sb, 'POST', '/__sandbox/faults', { route: 'list', kind: 'http500', times: 2 });
    expect(injected.status).toBe(201);
    expect(injected.json).toEqual({ rules: [{ route: 'list', kind: 'http500', times: 2 }] });
    expect((await call(sb, LIST)).status).toBe(500);
    expect(at((await plain(sb, 'GET', '/__sandbox/faults')).json, 'rules')).toEqual([{ route: 'list', kind: 'http500', times: 1 }]);
    expect((await plain(sb, 'POST', '/__sandbox/faults/clear')).status).toBe(200);
    expect((await call(sb, LIST)).status).toBe(200);
  });

  it('answers 400 VALIDATION_ERROR for a malformed fault rule', async () => {
    const sb = await sandboxFor();
    const r = await plain(sb, 'POST', '/__sandbox/faults', { route: 'list', kind: 'explode', times: 1 });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'VALIDATION_ERROR', errors: { kind: [expect.any(String)] } });
  });

  it('sets webhook faults and the webhook URL over HTTP', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor();
    expect((await plain(sb, 'POST', '/__sandbox/webhook-url', { url: rx.url })).status).toBe(200);
    expect((await plain(sb, 'POST', '/__sandbox/webhook-faults', { duplicateCount: 1 })).status).toBe(200);
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 2, 2_000, '2 copies');
    const hooks = await plain(sb, 'GET', '/__sandbox/webhooks');
    expect(at(hooks.json, 'deliveries', 0, 'duplicatesSent')).toBe(1);
    expect(at(hooks.json, 'deadLetters')).toEqual([]);
  });

  it('shows the ledger and settles a pending payout over HTTP', async () => {
    const sb = await sandboxFor({ startingBalance: '10000' });
    const id = await payout(sb, { msisdn: MTN.pending });
    const settled = await plain(sb, 'POST', '/__sandbox/settle', { payout_id: id, status: 'SUCCESS' });
    expect(settled.status).toBe(200);
    expect(at(settled.json, 'payout', 'status')).toBe('SUCCESS');
    const again = await plain(sb, 'POST', '/__sandbox/settle', { payout_id: id, status: 'FAILED' });
    expect(again.status).toBe(409);
    expect((await plain(sb, 'POST', '/__sandbox/settle', { payout_id: 'nope', status: 'FAILED' })).status).toBe(404);
    const ledger = await plain(sb, 'GET', '/__sandbox/ledger');
    expect(ledger.json).toMatchObject({ balance: '4925.00', payouts: [{ id, status: 'SUCCESS' }], quotes: [{ usedBy: expect.any(String) }] });
  });

  it('replays a delivery over HTTP', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    const id = sb.webhooks.deliveries()[0]?.id ?? '';
    const r = await plain(sb, 'POST', `/__sandbox/webhooks/${id}/replay`);
    expect(r.status).toBe(200);
    expect(rx.received[1]?.headers['x-zo-replay']).toBe('true');
    expect((await plain(sb, 'POST', '/__sandbox/webhooks/nope/replay')).status).toBe(404);
  });

  it('redirects webhooks with setWebhookUrl on the handle', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor();
    sb.setWebhookUrl(rx.url);
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    expect(sb.webhooks.deliveries()[0]?.url).toBe(rx.url);
  });

  it('lists recorded requests and answers 404 for unknown control or top-level routes', async () => {
    const sb = await sandboxFor();
    await call(sb, LIST);
    const r = await plain(sb, 'GET', '/__sandbox/requests');
    expect(at(r.json, 'requests', 0, 'route')).toBe('list');
    expect((await plain(sb, 'GET', '/__sandbox/nothing')).status).toBe(404);
    expect((await plain(sb, 'GET', '/')).status).toBe(404);
    expect(sb.requests).toHaveLength(1);
  });
});
