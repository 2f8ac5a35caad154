import type { CircuitBreaker } from './circuit-breaker.js';
import type { HttpTransport } from './transport.js';

/** Construction options of ZoPayClient. Every I/O dependency is passed in (style.md rule 2). */

export interface RetryPolicy {
  /** Attempts per call, the first included. Default 4. */
  maxAttempts: number;
  /** Deadline for a whole call, retries included, when the caller gives none. Default 20 000 ms. */
  operationDeadlineMs: number;
  /** Budget of one attempt (never beyond the call's deadline). Default 10 000 ms. */
  attemptTimeoutMs: number;
  /** Ceiling of the first backoff delay. Default 100 ms. */
  baseDelayMs: number;
  /** Largest backoff delay. Default 2 000 ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  operationDeadlineMs: 20_000,
  attemptTimeoutMs: 10_000,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
});

export interface AttemptInfo {
  operation: string;
  /** 1-based. */
  attempt: number;
  /** HTTP status, when ZoPay answered. */
  status?: number;
  /** Our stable error code (`ZOPAY_*`), absent on success. */
  errorCode?: string;
  durationMs: number;
  correlationId?: string;
}

export interface ZoPayClientOptions {
  transport: HttpTransport;
  credentials: { apiKey: string; apiSecret: string; origin: string };
  /** Default `/api/v1/disbursements/quote` (zopay-api.md §9 #2). */
  quotePath?: string;
  /** Default Date. Drives timestamps, deadlines and the default breaker. */
  clock?: { now(): number };
  /** Default crypto.randomUUID. Called once per attempt. */
  nonce?: () => string;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  policy?: Partial<RetryPolicy>;
  /** Default: a CircuitBreaker with its defaults on `clock`. Share one per upstream. */
  breaker?: Pick<CircuitBreaker, 'acquire' | 'record'>;
  /**
   * Shared upstream rate budget, awaited before every attempt. Throwing (e.g. a ZoPayRateLimitError when
   * no slot frees up before the deadline) ends the call with that error; nothing is sent. `priority`
   * says whether the call moves money (quote, execute) or only reads.
   */
  budget?: { acquire(deadline: number, priority: UpstreamPriority): Promise<void> };
  /** Default: a timer that rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called after every attempt, for logs and metrics; carries no secrets or MSISDNs. Throwing is ignored. */
  onAttempt?: (info: AttemptInfo) => void;
  /**
   * Aborts every call when it fires (shutdown): a request in flight is cut (its outcome unknown if it was
   * sent), and no call waits or retries any more. A call's own `signal` is honoured as well.
   */
  stop?: AbortSignal;
}

/**
 * What a ZoPay call is for. Quotes and executes move money; reads (a payout, a list, a reconciliation)
 * only refresh what the gateway shows, and never take the last slots of the shared budget
 * (stores/upstream-budget.ts): however often clients read or poll, payments still find room.
 */
export type UpstreamPriority = 'payment' | 'read';
