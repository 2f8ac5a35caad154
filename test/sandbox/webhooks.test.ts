import { describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { verifyWebhook } from '../../src/zopay/webhook-signature.js';
import { getPayout, MTN, payout, sandboxFor, waitUntil, webhookReceiver, type ReceivedWebhook } from './helpers.js';

const verified = (w: ReceivedWebhook, secret: string = SANDBOX_DEFAULTS.webhookSecret) =>
  verifyWebhook({
    rawBody: w.rawBody,
    signature: w.headers['x-zo-signature'],
    timestamp: w.headers['x-zo-timestamp'],
    secrets: [secret],
    nowMs: Date.now(),
  }).ok;

/** Enough to make the 7 h 21 m retry schedule take about 0.1 s. */
const FAST = 250_000;

describe('webhook deliveries', () => {
  it('sends a signed payout.completed with the §5.4 payload when a payout succeeds', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    const id = await payout(sb, { msisdn: MTN.success, amount: '5000' });
    await getPayout(sb, id);
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    const w = rx.received[0] as ReceivedWebhook;
    expect(verified(w)).toBe(true);
    expect(w.headers).toMatchObject({
      'content-type': 'application/json',
      'x-zo-event': 'payout.completed',
      'x-zo-delivery-id': sb.webhooks.deliveries()[0]?.id,
    });
    expect(w.headers['x-zo-replay']).toBeUndefined();
    const p = sb.ledger.payout(id);
    expect(w.rawBody).toBe(
      JSON.stringify({
        event: 'payout.completed',
        data: {
          payout_id: id,
          merchant_id: 'merchant-sandbox-0001',
          amount: '5000',
          currency: 'XAF',
          gateway: 'MTN_MOMO',
          recipient_msisdn: '237670000001',
          status: 'SUCCESS',
          fees: '75',
          total_deducted: '5075',
          created_at: p?.createdAt,
        },
        timestamp: p?.completedAt,
      }),
    );
  });

  it('sends payout.failed with failure_reason and no fees when a payout fails', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url, webhookSecret: 'whsec_test123' });
    const id = await payout(sb, { msisdn: MTN.insufficientFunds });
    await getPayout(sb, id);
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    const w = rx.received[0] as ReceivedWebhook;
    expect(verified(w, 'whsec_test123')).toBe(true);
    const body = JSON.parse(w.rawBody) as { event: string; data: Record<string, unknown> };
    expect(body.event).toBe('payout.failed');
    expect(body.data).toMatchObject({ status: 'FAILED', failure_reason: 'Insufficient funds', recipient_msisdn: '237670000003' });
    expect(Object.keys(body.data)).not.toContain('fees');
  });

  it('sends nothing and records nothing without a webhook URL', async () => {
    const sb = await sandboxFor();
    const id = await payout(sb);
    await getPayout(sb, id);
    expect(sb.webhooks.deliveries()).toEqual([]);
  });

  it('retries after a 500 with the same delivery id and body and a fresh signature', async () => {
    const rx = await webhookReceiver((n) => (n === 0 ? 500 : 200));
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: 6_000 });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 2, 3_000, 'the retry');
    const [first, second] = rx.received as [ReceivedWebhook, ReceivedWebhook];
    expect(second.headers['x-zo-delivery-id']).toBe(first.headers['x-zo-delivery-id']);
    expect(second.rawBody).toBe(first.rawBody);
    expect([verified(first), verified(second)]).toEqual([true, true]);
    // +1 minute at time scale 6000 is 10 ms.
    expect(second.at - first.at).toBeGreaterThanOrEqual(9);
    await waitUntil(() => sb.webhooks.deliveries()[0]?.status === 'DELIVERED', 1_000, 'DELIVERED');
    expect(sb.webhooks.deliveries()[0]).toMatchObject({ attemptCount: 2, attempts: [{ statusCode: 500 }, { statusCode: 200 }] });
  });

  it('treats a 4xx answer as a failure to retry', async () => {
    const rx = await webhookReceiver((n) => (n === 0 ? 401 : 204));
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deliveries()[0]?.status === 'DELIVERED', 2_000, 'DELIVERED');
    expect(rx.received).toHaveLength(2);
  });

  it('dead-letters a delivery after 6 failed attempts', async () => {
    const rx = await webhookReceiver(() => 503);
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deadLetters().length === 1, 5_000, 'the dead letter');
    expect(rx.received).toHaveLength(6);
    expect(new Set(rx.received.map((w) => w.headers['x-zo-delivery-id'])).size).toBe(1);
    expect(sb.webhooks.deadLetters()[0]).toMatchObject({ status: 'FAILED', attemptCount: 6, movedToDlqAt: expect.any(Number) });
  });

  it('retries on a timeout and on a connection error', async () => {
    const rx = await webhookReceiver((n) => (n === 0 ? 'hang' : 200));
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST, webhookTimeoutMs: 100 });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deliveries()[0]?.status === 'DELIVERED', 3_000, 'DELIVERED');
    expect(sb.webhooks.deliveries()[0]?.attempts.map((a) => a.error)).toEqual(['timeout', null]);

    const closed = await webhookReceiver();
    await closed.close();
    sb.webhooks.setUrl(closed.url);
    const id = await payout(sb);
    await getPayout(sb, id);
    await waitUntil(() => sb.webhooks.deadLetters().length === 1, 5_000, 'a dead letter');
    const dead = sb.webhooks.deadLetters()[0];
    expect(dead?.payoutId).toBe(id);
    expect(dead?.attempts.every((a) => a.statusCode === null && a.error !== null)).toBe(true);
  });

  it('replays a dead letter with X-Zo-Replay: true and the same delivery id', async () => {
    let healthy = false;
    const rx = await webhookReceiver(() => (healthy ? 200 : 500));
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deadLetters().length === 1, 5_000, 'the dead letter');
    const dead = sb.webhooks.deadLetters()[0];
    healthy = true;
    await sb.webhooks.replay(dead?.id ?? '');
    const last = rx.received.at(-1) as ReceivedWebhook;
    expect(last.headers['x-zo-replay']).toBe('true');
    expect(last.headers['x-zo-delivery-id']).toBe(dead?.id);
    expect(verified(last)).toBe(true);
    expect(sb.webhooks.deadLetters()).toEqual([]);
    expect(sb.webhooks.deliveries()[0]).toMatchObject({ status: 'DELIVERED', replayed: true });
  });

  it('rejects a replay of an unknown delivery', async () => {
    const sb = await sandboxFor();
    await expect(sb.webhooks.replay('nope')).rejects.toThrow(/unknown delivery/);
  });
});

describe('webhook faults', () => {
  it('sends extra copies with the same delivery id (duplicateCount)', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    sb.faults.setWebhookFaults({ duplicateCount: 2 });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 3, 2_000, '3 copies');
    expect(new Set(rx.received.map((w) => w.headers['x-zo-delivery-id'])).size).toBe(1);
    expect(rx.received.every((w) => verified(w))).toBe(true);
    // The sandbox counts a copy once its POST is answered, which can come just after the receiver saw it.
    await waitUntil(() => sb.webhooks.deliveries()[0]?.duplicatesSent === 2, 2_000, 'duplicates counted');
    expect(sb.webhooks.deliveries()[0]).toMatchObject({ attemptCount: 1, duplicatesSent: 2 });
  });

  it('follows the final event with a stale payout.processing event (outOfOrder)', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    sb.faults.setWebhookFaults({ outOfOrder: true });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 2, 2_000, '2 events');
    const events = rx.received.map((w) => JSON.parse(w.rawBody) as { event: string; data: { status: string }; timestamp: string });
    expect(events.map((e) => [e.event, e.data.status])).toEqual([
      ['payout.completed', 'SUCCESS'],
      ['payout.processing', 'PROCESSING'],
    ]);
    expect(Date.parse(events[1]?.timestamp ?? '')).toBeLessThanOrEqual(Date.parse(events[0]?.timestamp ?? ''));
    expect(rx.received[0]?.headers['x-zo-delivery-id']).not.toBe(rx.received[1]?.headers['x-zo-delivery-id']);
  });

  it('loses every attempt at dropRate 1 and dead-letters without reaching the receiver', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST });
    sb.faults.setWebhookFaults({ dropRate: 1 });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deadLetters().length === 1, 5_000, 'the dead letter');
    expect(rx.received).toEqual([]);
    expect(sb.webhooks.deadLetters()[0]?.attempts.map((a) => a.error)).toEqual(Array(6).fill('dropped'));
  });

  it('drops attempts according to the injected random source', async () => {
    const rx = await webhookReceiver();
    const rolls = [0.1, 0.9];
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST, random: () => rolls.shift() ?? 0.9 });
    sb.faults.setWebhookFaults({ dropRate: 0.5 });
    await getPayout(sb, await payout(sb));
    await waitUntil(() => sb.webhooks.deliveries()[0]?.status === 'DELIVERED', 2_000, 'DELIVERED');
    expect(sb.webhooks.deliveries()[0]?.attempts.map((a) => a.error ?? a.statusCode)).toEqual(['dropped', 200]);
    expect(rx.received).toHaveLength(1);
  });

  it('delays the first attempt by delayMs', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    sb.faults.setWebhookFaults({ delayMs: 150 });
    const id = await payout(sb);
    const settledAt = Date.now();
    await getPayout(sb, id);
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    expect((rx.received[0]?.at ?? 0) - settledAt).toBeGreaterThanOrEqual(140);
  });

  it('clears webhook faults with faults.clear()', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    sb.faults.setWebhookFaults({ duplicateCount: 3 });
    sb.faults.clear();
    await getPayout(sb, await payout(sb));
    await waitUntil(() => rx.received.length === 1, 2_000, 'the webhook');
    await new Promise((r) => setTimeout(r, 30));
    expect(rx.received).toHaveLength(1);
  });

  it.each([
    ['+237670000006', 'three copies of one delivery', 3],
    ['+237670000007', 'the final event then a stale one', 2],
  ])('magic number %s yields %s', async (msisdn, _what, count) => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url });
    await getPayout(sb, await payout(sb, { msisdn }));
    await waitUntil(() => rx.received.length === count, 2_000, `${count} webhooks`);
    await new Promise((r) => setTimeout(r, 30));
    expect(rx.received).toHaveLength(count);
  });

  it('magic number +237670000008 loses the first attempt, then delivers on the retry', async () => {
    const rx = await webhookReceiver();
    const sb = await sandboxFor({ webhookUrl: rx.url, timeScale: FAST });
    await getPayout(sb, await payout(sb, { msisdn: '+237670000008' }));
    await waitUntil(() => sb.webhooks.deliveries()[0]?.status === 'DELIVERED', 2_000, 'DELIVERED');
    expect(sb.webhooks.deliveries()[0]?.attempts.map((a) => a.error ?? a.statusCode)).toEqual(['dropped', 200]);
    expect(rx.received).toHaveLength(1);
  });

  it('rejects webhook faults out of range', async () => {
    const sb = await sandboxFor();
    expect(() => sb.faults.setWebhookFaults({ dropRate: 2 })).toThrow();
  });
});
