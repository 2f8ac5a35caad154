/** Read-only views of the sandbox's books, as tests and the control API see them. */
import type { Gateway, PayoutStatus } from '../src/zopay/types.js';

/** zopay-api.md §9 #12: the assumed shape of `payout.error`. */
export interface PayoutError {
  code: string;
  message: string;
}

export interface SandboxQuote {
  id: string;
  gateway: Gateway;
  /** What the recipient receives, 2 dp ("5000.00"). */
  amount: string;
  currency: string;
  gatewayFee: string;
  platformFee: string;
  /** amount + fees. */
  totalDebit: string;
  /** E.164 with `+`. */
  msisdn: string;
  createdAt: string;
  expiresAt: string;
  /** The idempotency key that consumed it, or null while unused. */
  usedBy: string | null;
}

/** The GET resource of zopay-api.md §3.4 plus what only the sandbox knows. */
export interface SandboxPayout {
  id: string;
  merchantId: string;
  gateway: Gateway;
  amount: string;
  currency: string;
  status: PayoutStatus;
  recipient: { msisdn: string };
  gatewayReference: string;
  gatewayFee: string;
  platformFee: string;
  totalAmount: string;
  createdAt: string;
  completedAt: string | null;
  error: PayoutError | null;
  correlationId: string;
  idempotencyKey: string;
  quoteId: string;
  batchId: string | null;
}

export interface SandboxLedger {
  /** Every payout, oldest first. */
  payouts(): SandboxPayout[];
  /** Every quote still remembered, oldest first. */
  quotes(): SandboxQuote[];
  /** Merchant wallet balance, 2 dp ("100000000.00"). */
  balance(): string;
  /** Payouts created under an execute idempotency key (0 or 1: the sandbox never pays twice). */
  payoutsByIdempotencyKey(key: string): SandboxPayout[];
  /** One payout by id, or undefined. */
  payout(id: string): SandboxPayout | undefined;
}
