/** Domain types of the ZoPay client: one camelCase shape whatever the wire source. */

export const PAYOUT_STATUSES = ['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'CANCELLED'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<PayoutStatus> = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

export function isFinalStatus(status: PayoutStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/**
 * Progress order for monotonic application: PENDING < PROCESSING < any final. Two different finals share
 * a rank: a final status never changes, so a second, different final is a conflict, not progress.
 */
export function statusRank(status: PayoutStatus): number {
  return status === 'PENDING' ? 0 : status === 'PROCESSING' ? 1 : 2;
}

export const GATEWAYS = ['MTN_MOMO', 'ORANGE_MONEY'] as const;
export type Gateway = (typeof GATEWAYS)[number];

/** Where a Payout snapshot came from. Fields a source does not carry are undefined, never guessed. */
export type PayoutSource = 'execute' | 'get' | 'list' | 'webhook';

export interface PayoutFailure {
  code?: string;
  message: string;
}

export interface Payout {
  id: string;
  /** Known status; an unknown upstream string (e.g. "VERIFYING") maps to PROCESSING (non-final). */
  status: PayoutStatus;
  /** The status string exactly as ZoPay sent it. */
  rawStatus: string;
  source: PayoutSource;
  gateway?: Gateway;
  /** Decimal strings exactly as ZoPay sent them ("5000", "5000.00"). */
  amount?: string;
  currency?: string;
  /** E.164 with a leading `+`, whatever the wire form. */
  recipientMsisdn?: string;
  gatewayReference?: string;
  correlationId?: string;
  gatewayFee?: string;
  platformFee?: string;
  /** amount + fees (GET's `totalAmount`, the webhook's `total_deducted`). */
  totalAmount?: string;
  /** ISO-8601 strings. */
  createdAt?: string;
  completedAt?: string | null;
  failure?: PayoutFailure | null;
  merchantId?: string;
  batchId?: string;
}

export interface Quote {
  id: string;
  gateway: Gateway;
  /** What the recipient receives (ZoPay's quote `total_amount`). */
  amount: string;
  currency: string;
  gatewayFee: string;
  platformFee: string;
  /** Total taken from the merchant wallet, positive (|net_to_merchant|). */
  merchantDebit: string;
  recipientMsisdn: string;
  expiresAt: string;
}

export interface CreateQuoteRequest {
  gateway: Gateway;
  amount: string;
  currency: string;
  /** E.164 with `+`. */
  recipientMsisdn: string;
}

export interface ExecuteDisbursementRequest {
  quoteId: string;
  /** The ZoPay idempotency key, reused verbatim on every attempt. */
  idempotencyKey: string;
  recipientMsisdn: string;
}

export interface ListPayoutsRequest {
  status?: PayoutStatus;
  gateway?: Gateway;
  /** 1..100 */
  limit: number;
  offset: number;
  startDate?: string;
  endDate?: string;
  batchId?: string;
}

export interface PayoutPage {
  payouts: Payout[];
  total: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

export interface CallOptions {
  /** Absolute deadline (ms since epoch) for the whole call, retries included. */
  deadline?: number;
  signal?: AbortSignal;
}

/** What the gateway needs from ZoPay. Implemented by ZoPayClient; tests may script it. */
export interface ZoPayApi {
  createQuote(req: CreateQuoteRequest, opts?: CallOptions): Promise<Quote>;
  executeDisbursement(req: ExecuteDisbursementRequest, opts?: CallOptions): Promise<Payout>;
  /** Throws ZoPayNotFoundError for an unknown id. */
  getPayout(id: string, opts?: CallOptions): Promise<Payout>;
  listPayouts(req: ListPayoutsRequest, opts?: CallOptions): Promise<PayoutPage>;
}
