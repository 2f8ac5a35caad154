/**
 * Checks of the bench's own pieces before anything is measured (they run in every mode, so CI keeps the
 * harness honest): the stub refuses a bad signature and accepts a correct one, the baseline pays a quote
 * through the stub and verifies webhooks, the gateway answers, and, when a subscription scenario runs, the
 * raw ws baseline verifies webhooks and the subscriber fleet answers. A failed check is a setup Problem.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { signedHeaders as zoHeaders } from '../../src/zopay/sign.js';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { BASELINE_PATHS } from '../baseline.js';
import { WS_BASELINE_PATHS } from '../ws-baseline.js';
import { FLEET_PATHS } from './fleet-protocol.js';
import { BENCH_MSISDN, type BenchContext } from './context.js';
import { checkExecuteAnswer, stubCounts } from './gateway-api.js';

interface Answer {
  status: number;
  text: string;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await request(url, { method: 'POST', headers, body });
  return { status: res.statusCode, text: await res.body.text() };
}

function signedHeaders(ctx: BenchContext, path: string, body: string, secret = ctx.secrets.apiSecret): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomUUID();
  const { apiKey, origin } = ctx.secrets;
  return { 'content-type': 'application/json', ...zoHeaders({ method: 'POST', path, body, timestamp, nonce, origin }, { apiKey, apiSecret: secret }) };
}

export async function preflight(ctx: BenchContext): Promise<void> {
  const failures: string[] = [];
  const expect = (ok: boolean, what: string, answer?: Answer) => {
    if (!ok) failures.push(`${what}${answer ? ` (HTTP ${answer.status} ${answer.text.slice(0, 300)})` : ''}`);
  };
  const quotePath = '/api/v1/disbursements/quote';
  const quoteBody = JSON.stringify({ gateway: 'MTN_MOMO', transaction_type: 'DISBURSEMENT', amount: '5000', currency: 'XAF', recipient: { msisdn: BENCH_MSISDN } });

  await stubCounts(ctx, true);
  const forged = await post(`${ctx.stub.url}${quotePath}`, quoteBody, signedHeaders(ctx, quotePath, quoteBody, 'not-the-secret'));
  expect(forged.status === 401, 'stub: a wrong signature is refused with 401', forged);
  const respacedBody = JSON.stringify(JSON.parse(quoteBody), null, 1);
  const respaced = await post(`${ctx.stub.url}${quotePath}`, respacedBody, signedHeaders(ctx, quotePath, quoteBody));
  expect(respaced.status === 401, 'stub: a body other than the signed string is refused with 401', respaced);
  const quoted = await post(`${ctx.stub.url}${quotePath}`, quoteBody, signedHeaders(ctx, quotePath, quoteBody));
  expect(quoted.status === 200, 'stub: a correctly signed quote is answered 200', quoted);
  const quoteId = quoted.status === 200 ? String((JSON.parse(quoted.text) as { quote_id?: string }).quote_id) : 'none';

  const execBody = JSON.stringify({ quoteId, idempotencyKey: `${ctx.runTag}-preflight`, msisdn: BENCH_MSISDN });
  const paid = await post(`${ctx.baseline.url}${BASELINE_PATHS.execute}`, execBody, { 'content-type': 'application/json' });
  expect(paid.status === 200 && checkExecuteAnswer(paid.text) === undefined, 'baseline: executes through the stub and answers a Payout', paid);
  const again = await post(`${ctx.baseline.url}${BASELINE_PATHS.execute}`, execBody, { 'content-type': 'application/json' });
  expect(again.text === paid.text, 'stub: a repeated idempotency key returns the same payout', again);
  const counts = await stubCounts(ctx);
  expect(counts.unauthorized === 2 && counts.quote === 1 && counts.execute === 2, `stub: counts ${JSON.stringify(counts)}`);

  const rawBody = JSON.stringify({ event: 'payout.completed', data: { payout_id: 'po_preflight' }, timestamp: new Date().toISOString() });
  const hook = (secret: string) =>
    signedWebhookHeaders({ secret, rawBody, event: 'payout.completed', deliveryId: `${ctx.runTag}-preflight`, timestampMs: Date.now() });
  const good = await post(`${ctx.baseline.url}${BASELINE_PATHS.webhook}`, rawBody, hook(ctx.secrets.webhookSecret));
  expect(good.status === 200, 'baseline: a signed webhook is accepted', good);
  const bad = await post(`${ctx.baseline.url}${BASELINE_PATHS.webhook}`, rawBody, hook('whsec_wrong'));
  expect(bad.status === 401, 'baseline: a wrongly signed webhook is refused', bad);

  if (ctx.wsBaseline) {
    // The raw ws baseline verifies like the gateway: a forged delivery is refused, a signed one accepted.
    const wsHook = (secret: string) =>
      signedWebhookHeaders({ secret, rawBody, event: 'payout.completed', deliveryId: `${ctx.runTag}-preflight-ws`, timestampMs: Date.now() });
    const wsGood = await post(`${ctx.wsBaseline.url}${WS_BASELINE_PATHS.webhook}`, rawBody, wsHook(ctx.secrets.webhookSecret));
    expect(wsGood.status === 200, 'ws baseline: a signed webhook is accepted', wsGood);
    const wsBad = await post(`${ctx.wsBaseline.url}${WS_BASELINE_PATHS.webhook}`, rawBody, wsHook('whsec_wrong'));
    expect(wsBad.status === 401, 'ws baseline: a wrongly signed webhook is refused', wsBad);
  }
  if (ctx.subscribers) {
    const fleet = await request(`${ctx.subscribers.url}${FLEET_PATHS.status}`);
    const fleetText = await fleet.body.text();
    expect(fleet.statusCode === 200 && (JSON.parse(fleetText) as { clients?: number }).clients === 0, 'subscriber fleet: answers, no clients', { status: fleet.statusCode, text: fleetText });
  }

  const health = await request(`${ctx.gateway.url}/healthz`);
  const healthText = await health.body.text();
  expect(health.statusCode === 200, 'gateway: /healthz answers 200', { status: health.statusCode, text: healthText });

  for (const f of failures) ctx.problems.push({ scenario: 'preflight', side: 'setup', message: f });
  if (failures.length > 0) throw new Error(`preflight failed:\n  ${failures.join('\n  ')}`);
  ctx.log(`preflight: stub, baseline${ctx.wsBaseline ? ', ws baseline, subscriber fleet' : ''} and gateway answer as expected`);
}
