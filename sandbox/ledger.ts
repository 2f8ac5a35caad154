/**
 * The sandbox's books: quotes, payouts, execute idempotency keys and the merchant wallet. Amounts are
 * bigint hundredths (money.ts). One merchant per sandbox: the API key identifies it (§9 #2).
 */
import type { Gateway, PayoutStatus } from '../src/zopay/types.js';
import type { PayoutError, SandboxLedger } from './ledger-types.js';
import type { NumberBehaviour } from './test-numbers.js';
import { payoutView, quoteView } from './views.js';
import { formatAmount } from './money.js';

/** ZoPay keeps idempotency keys at least 24 h (§9 #9); quotes are remembered as long after expiry. */
export const RETENTION_MS = 24 * 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 60_000;

export interface QuoteRecord {
  id: string;
  gateway: Gateway;
  amount: bigint;
  currency: string;
  msisdn: string;
  gatewayFee: bigint;
  platformFee: bigint;
  createdAt: number;
  expiresAt: number;
  usedBy: string | null;
}

export interface PayoutRecord {
  id: string;
  merchantId: string;
  gateway: Gateway;
  amount: bigint;
  currency: string;
  msisdn: string;
  gatewayReference: string;
  correlationId: string;
  gatewayFee: bigint;
  platformFee: bigint;
  status: PayoutStatus;
  createdAt: number;
  completedAt: number | null;
  error: PayoutError | null;
  idempotencyKey: string;
  quoteId: string;
  batchId: string | null;
  behaviour: NumberBehaviour;
}

export interface IdempotencyRecord {
  key: string;
  quoteId: string;
  msisdn: string;
  payoutId: string;
  createdAt: number;
}

export interface Ledger {
  readonly merchantId: string;
  balance(): bigint;
  /** Throws if the wallet cannot cover it: callers check first and answer 402. */
  debit(minor: bigint): void;
  credit(minor: bigint): void;
  addQuote(q: QuoteRecord): void;
  quote(id: string): QuoteRecord | undefined;
  addPayout(p: PayoutRecord, key: IdempotencyRecord): void;
  payout(id: string): PayoutRecord | undefined;
  /** Newest first. */
  payoutsNewestFirst(): PayoutRecord[];
  idempotency(key: string): IdempotencyRecord | undefined;
  /** Forgets idempotency keys and quotes older than the retention; payouts are kept. */
  sweep(now: number): void;
  view(): SandboxLedger;
}

export function createLedger(opts: { startingBalance: bigint; merchantId: string }): Ledger {
  let wallet = opts.startingBalance;
  const quotes = new Map<string, QuoteRecord>();
  const payouts = new Map<string, PayoutRecord>();
  const keys = new Map<string, IdempotencyRecord>();
  // Sweeping is O(n); once a minute keeps it off the hot path under load.
  let lastSweep = -Infinity;

  const ledger: Ledger = {
    merchantId: opts.merchantId,
    balance: () => wallet,
    debit(minor) {
      if (minor > wallet) throw new Error('debit exceeds the wallet balance');
      wallet -= minor;
    },
    credit(minor) {
      wallet += minor;
    },
    addQuote: (q) => void quotes.set(q.id, q),
    quote: (id) => quotes.get(id),
    addPayout(p, key) {
      payouts.set(p.id, p);
      keys.set(key.key, key);
    },
    payout: (id) => payouts.get(id),
    payoutsNewestFirst: () => [...payouts.values()].reverse(),
    idempotency: (key) => keys.get(key),
    sweep(now) {
      if (now - lastSweep < SWEEP_INTERVAL_MS && now >= lastSweep) return;
      lastSweep = now;
      for (const [k, r] of keys) if (now - r.createdAt > RETENTION_MS) keys.delete(k);
      for (const [id, q] of quotes) if (now - q.expiresAt > RETENTION_MS) quotes.delete(id);
    },
    view: () => ({
      payouts: () => [...payouts.values()].map(payoutView),
      quotes: () => [...quotes.values()].map(quoteView),
      balance: () => formatAmount(wallet),
      payoutsByIdempotencyKey: (key) => [...payouts.values()].filter((p) => p.idempotencyKey === key).map(payoutView),
      payout: (id) => {
        const p = payouts.get(id);
        return p ? payoutView(p) : undefined;
      },
    }),
  };
  return ledger;
}
