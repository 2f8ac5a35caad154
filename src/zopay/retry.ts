import {
  ZoPayConnectionError,
  ZoPayRateLimitError,
  ZoPayServerError,
  ZoPayTimeoutError,
} from './errors.js';

/**
 * When a failed attempt may be tried again. Keyed on what the error proves about ZoPay's state:
 *
 * | failure                                         | idempotent call | non-idempotent call |
 * | ----------------------------------------------- | --------------- | ------------------- |
 * | connection failed / timed out before sending    | retry           | retry               |
 * | 429                                             | wait-then-retry | wait-then-retry     |
 * | 5xx, or timeout / connection loss after sending | retry           | stop                |
 * | any other 4xx (401, 403, 400, 402, 404, 409…)   | stop            | stop                |
 * | circuit open, unreadable 2xx, anything else     | stop            | stop                |
 *
 * "Idempotent" means repeating the request cannot act twice: GETs, and execute because every attempt
 * carries the same `idempotency_key`. A quote POST is not: a retry after an unknown outcome could
 * consume a second quote.
 */
export const RETRY_DECISIONS = {
  RETRY: 'retry',
  WAIT_THEN_RETRY: 'wait-then-retry',
  STOP: 'stop',
} as const;
export type RetryDecision = (typeof RETRY_DECISIONS)[keyof typeof RETRY_DECISIONS];

export function classifyForRetry(error: unknown, opts: { idempotent: boolean }): RetryDecision {
  if (error instanceof ZoPayRateLimitError) return 'wait-then-retry';
  if (error instanceof ZoPayConnectionError || error instanceof ZoPayTimeoutError) {
    return !error.requestSent || opts.idempotent ? 'retry' : 'stop';
  }
  if (error instanceof ZoPayServerError) return opts.idempotent ? 'retry' : 'stop';
  return 'stop';
}

export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(maxMs, baseMs · 2^(attempt-1))), where
 * `attempt` is the 1-based number of the attempt that just failed.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(opts.random(), 0), 1);
  return Math.floor(r * ceiling);
}
