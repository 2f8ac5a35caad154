/** Signed ZoPay webhook deliveries as the sandbox sends them (§5.4), for every webhook scenario. */
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { BENCH_MSISDN } from './context.js';

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
  /** `completed_at` of the payload, which the final `next` of a subscription must carry. */
  completedAt: string;
}

/** A signed `payout.completed` for `payoutId` (MSISDN without "+", amounts without decimals, like the sandbox). */
export function completedDelivery(secret: string, payoutId: string, deliveryId: string, nowMs = Date.now()): SignedDelivery {
  const now = new Date(nowMs).toISOString();
  const data = {
    payout_id: payoutId,
    merchant_id: 'merchant-bench',
    amount: '5000',
    currency: 'XAF',
    gateway: 'MTN_MOMO',
    recipient_msisdn: BENCH_MSISDN.slice(1),
    status: 'SUCCESS',
    fees: '75',
    total_deducted: '5075',
    created_at: now,
    completed_at: now,
  };
  const body = JSON.stringify({ event: 'payout.completed', data, timestamp: now });
  const headers = signedWebhookHeaders({ secret, rawBody: body, event: 'payout.completed', deliveryId, timestampMs: nowMs });
  return { body, headers, completedAt: now };
}
