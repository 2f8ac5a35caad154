/**
 * Wire shapes, key order as documented: snake_case for quote/execute (§3.1, §3.3), camelCase for the GET
 * and list resources (§3.4, §3.5). Amounts are 2-dp strings here; webhooks use webhook-payload.ts.
 */
import type { PayoutRecord, QuoteRecord } from './ledger.js';
import type { SandboxPayout, SandboxQuote } from './ledger-types.js';
import { formatAmount } from './money.js';

const iso = (ms: number) => new Date(ms).toISOString();
/** What the merchant wallet pays for a quote or payout: amount + both fees (§9 #23). */
export const totalDebit = (r: { amount: bigint; gatewayFee: bigint; platformFee: bigint }): bigint =>
  r.amount + r.gatewayFee + r.platformFee;
const total = totalDebit;

/** §9 #1: the documented fields plus `quote_id` and `expires_at`; `total_amount` is what the recipient gets. */
export function quoteResponse(q: QuoteRecord) {
  return {
    quote_id: q.id,
    gateway_fee: formatAmount(q.gatewayFee),
    platform_fee: formatAmount(q.platformFee),
    total_amount: formatAmount(q.amount),
    net_to_merchant: formatAmount(-total(q)),
    expires_at: iso(q.expiresAt),
  };
}

export function executeResponse(p: PayoutRecord) {
  return {
    payout_id: p.id,
    status: p.status,
    gateway_reference: p.gatewayReference,
    correlation_id: p.correlationId,
  };
}

/** The list item of §3.5 (the documented item has no `error`). */
export function payoutListItem(p: PayoutRecord) {
  return {
    id: p.id,
    merchantId: p.merchantId,
    gateway: p.gateway,
    amount: formatAmount(p.amount),
    currency: p.currency,
    status: p.status,
    recipient: { msisdn: p.msisdn },
    gatewayReference: p.gatewayReference,
    gatewayFee: formatAmount(p.gatewayFee),
    platformFee: formatAmount(p.platformFee),
    totalAmount: formatAmount(total(p)),
    createdAt: iso(p.createdAt),
    completedAt: p.completedAt === null ? null : iso(p.completedAt),
  };
}

/** The GET resource of §3.4. */
export function payoutResource(p: PayoutRecord) {
  return { ...payoutListItem(p), error: p.error };
}

export function payoutView(p: PayoutRecord): SandboxPayout {
  return {
    ...payoutResource(p),
    error: p.error ? { ...p.error } : null,
    recipient: { msisdn: p.msisdn },
    correlationId: p.correlationId,
    idempotencyKey: p.idempotencyKey,
    quoteId: p.quoteId,
    batchId: p.batchId,
  };
}

export function quoteView(q: QuoteRecord): SandboxQuote {
  return {
    id: q.id,
    gateway: q.gateway,
    amount: formatAmount(q.amount),
    currency: q.currency,
    gatewayFee: formatAmount(q.gatewayFee),
    platformFee: formatAmount(q.platformFee),
    totalDebit: formatAmount(total(q)),
    msisdn: q.msisdn,
    createdAt: iso(q.createdAt),
    expiresAt: iso(q.expiresAt),
    usedBy: q.usedBy,
  };
}
