/**
 * Cost of ZoPay request signing and webhook verification, per request.
 *
 *   npx tsx bench/sign.bench.ts [iterations=200000] [rounds=7]
 *
 * Each round signs N execute requests (a fresh nonce each time, like the client) and verifies N webhook
 * deliveries; the median round is reported. An outbound request pays one sign, an inbound webhook one
 * verify: the threshold (< 5 µs) applies to each, and the process exits 1 above it. Their sum is printed
 * too. Each costs one HMAC-SHA256 through node:crypto, whose per-call floor dominates both numbers.
 */
import { performance } from 'node:perf_hooks';
import { signRequest } from '../src/zopay/sign.js';
import { signedWebhookHeaders, verifyWebhook } from '../src/zopay/webhook-signature.js';

const THRESHOLD_US = 5;
const iterations = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 7);

const secret = 'zo_sandbox_secret_do_not_use_in_production';
const body = JSON.stringify({
  quote_id: '6f1c2a7e-0000-4000-8000-000000000001',
  idempotency_key: 'caller-1:order-123',
  recipient: { msisdn: '+237670000001' },
});
const webhookSecret = 'whsec_5a0d7e1f3c9b4a2e8d6f0b1c7a3e9d5f2b8c4a6e0d1f7b3c9a5e2d8f4b6c0a1e';
const webhookBody = JSON.stringify({
  event: 'payout.completed',
  data: {
    payout_id: '660e8400-e29b-41d4-a716-446655440001',
    merchant_id: 'merchant-uuid',
    amount: '5000',
    currency: 'XAF',
    gateway: 'MTN_MOMO',
    recipient_msisdn: '237670000001',
    status: 'SUCCESS',
    fees: '100',
    total_deducted: '5100',
    created_at: '2026-01-18T23:30:00.000Z',
  },
  timestamp: '2026-01-18T23:30:00.000Z',
});
const nowMs = Date.now();
const headers = signedWebhookHeaders({ secret: webhookSecret, rawBody: webhookBody, event: 'payout.completed', deliveryId: 'd-1', timestampMs: nowMs });
const signature = headers['x-zo-signature'];
const timestamp = headers['x-zo-timestamp'];
const timestampSeconds = String(Math.floor(nowMs / 1000));

function round(n: number): { sign: number; verify: number } {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sig = signRequest(
      { method: 'POST', path: '/api/v1/disbursements/execute', body, timestamp: timestampSeconds, nonce: `nonce-${i}`, origin: 'http://localhost:4000' },
      secret,
    );
    sink += sig.length;
  }
  const t1 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = verifyWebhook({ rawBody: webhookBody, signature, timestamp, secrets: [webhookSecret], nowMs });
    if (r.ok) sink += 1;
  }
  const t2 = performance.now();
  if (sink !== n * 65) throw new Error('benchmark sanity check failed');
  return { sign: ((t1 - t0) * 1000) / n, verify: ((t2 - t1) * 1000) / n };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

round(Math.min(iterations, 20_000)); // warm-up (JIT)
const results = Array.from({ length: rounds }, () => round(iterations));
const sign = median(results.map((r) => r.sign));
const verify = median(results.map((r) => r.verify));
const total = sign + verify;

console.log(`command: npx tsx bench/sign.bench.ts ${iterations} ${rounds}`);
console.log(`node ${process.version}, ${iterations} iterations × ${rounds} rounds, median round`);
console.log(`signRequest      ${sign.toFixed(3)} µs/request`);
console.log(`verifyWebhook    ${verify.toFixed(3)} µs/request`);
console.log(`sign + verify    ${total.toFixed(3)} µs (both together, for reference)`);
for (const [name, us] of [
  ['signRequest', sign],
  ['verifyWebhook', verify],
] as const) {
  const verdict = us <= THRESHOLD_US ? 'ok' : 'FAIL';
  console.log(`${verdict.padEnd(4)} ${name}: ${us.toFixed(3)} µs vs threshold ${THRESHOLD_US} µs (ratio ${(us / THRESHOLD_US).toFixed(2)})`);
  if (us > THRESHOLD_US) process.exitCode = 1;
}
