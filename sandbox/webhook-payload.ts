/**
 * Webhook bodies exactly as zopay-api.md §5.4 prints them: envelope `{event, data, timestamp}`, MSISDN
 * without `+`, amounts without decimals, `fees` + `total_deducted` on success, `failure_reason` on failure.
 */
import type { PayoutRecord } from './ledger.js';
import { formatWebhookAmount } from './money.js';
import { totalDebit } from './views.js';

export const PAYOUT_EVENTS = {
  COMPLETED: 'payout.completed',
  FAILED: 'payout.failed',
  /** Not a ZoPay event: the out-of-order fault's stale event, so receivers can prove they never regress. */
  PROCESSING: 'payout.processing',
} as const;
export type PayoutEvent = (typeof PAYOUT_EVENTS)[keyof typeof PAYOUT_EVENTS];

const iso = (ms: number) => new Date(ms).toISOString();

function common(p: PayoutRecord) {
  return {
    payout_id: p.id,
    merchant_id: p.merchantId,
    amount: formatWebhookAmount(p.amount),
    currency: p.currency,
    gateway: p.gateway,
    recipient_msisdn: p.msisdn.replace(/^\+/, ''),
  };
}

/** The event for a payout that just reached SUCCESS or FAILED; `timestamp` is when it did. */
export function finalEvent(p: PayoutRecord): { event: PayoutEvent; body: string } {
  const createdAt = iso(p.createdAt);
  const timestamp = iso(p.completedAt ?? p.createdAt);
  if (p.status === 'SUCCESS') {
    const data = {
      ...common(p),
      status: 'SUCCESS',
      fees: formatWebhookAmount(p.gatewayFee + p.platformFee),
      total_deducted: formatWebhookAmount(totalDebit(p)),
      created_at: createdAt,
    };
    return { event: PAYOUT_EVENTS.COMPLETED, body: JSON.stringify({ event: PAYOUT_EVENTS.COMPLETED, data, timestamp }) };
  }
  const data = {
    ...common(p),
    status: 'FAILED',
    failure_reason: p.error?.message ?? 'Failed',
    created_at: createdAt,
  };
  return { event: PAYOUT_EVENTS.FAILED, body: JSON.stringify({ event: PAYOUT_EVENTS.FAILED, data, timestamp }) };
}

/** A PROCESSING event dated at creation: older than the final event it is sent after. */
export function staleProcessingEvent(p: PayoutRecord): { event: PayoutEvent; body: string } {
  const data = { ...common(p), status: 'PROCESSING', created_at: iso(p.createdAt) };
  return {
    event: PAYOUT_EVENTS.PROCESSING,
    body: JSON.stringify({ event: PAYOUT_EVENTS.PROCESSING, data, timestamp: iso(p.createdAt) }),
  };
}
