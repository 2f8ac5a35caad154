/**
 * Store errors with stable codes. Match on `code` or class, never on `message`.
 */

export const STORE_ERROR_CODES = {
  UNAVAILABLE: 'STORE_UNAVAILABLE',
  BUDGET_EXHAUSTED: 'UPSTREAM_BUDGET_EXHAUSTED',
} as const;

/**
 * The shared store (Redis) could not be reached or refused to serve (down, loading, read-only replica,
 * out of memory, timed out). Nothing can be assumed written; callers answer with a retryable error
 * (`UPSTREAM_UNAVAILABLE`, webhook 503) and must not call ZoPay on the strength of a failed store call.
 */
export class StoreUnavailableError extends Error {
  readonly code = STORE_ERROR_CODES.UNAVAILABLE;
  constructor(operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super(`Shared store unavailable during ${operation}${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The shared upstream request budget (ZoPay's per-key rate limit) has no slot before the caller's
 * deadline or the maximum queueing time. Map to `RATE_LIMITED` with `retryAfter`.
 */
export class BudgetExhaustedError extends Error {
  readonly code = STORE_ERROR_CODES.BUDGET_EXHAUSTED;
  /** Whole seconds, at least 1. */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`Upstream request budget exhausted; retry in ${seconds} s`);
    this.name = 'BudgetExhaustedError';
    this.retryAfterSeconds = seconds;
  }
}
