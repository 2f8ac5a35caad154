import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ZoPayAuthenticationError,
  ZoPayBadResponseError,
  ZoPayCircuitOpenError,
  ZoPayConflictError,
  ZoPayConnectionError,
  ZoPayForbiddenError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayNotFoundError,
  ZoPayRateLimitError,
  ZoPayServerError,
  ZoPayTimeoutError,
} from '../../src/zopay/errors.js';
import { backoffDelay, classifyForRetry, type RetryDecision } from '../../src/zopay/retry.js';

const m = { message: 'x' };

describe('classifyForRetry', () => {
  const table: [string, unknown, RetryDecision, RetryDecision][] = [
    // name, error, idempotent call, non-idempotent call
    ['connection refused (nothing sent)', new ZoPayConnectionError({ ...m, requestSent: false }), 'retry', 'retry'],
    ['connect timeout (nothing sent)', new ZoPayTimeoutError({ ...m, requestSent: false }), 'retry', 'retry'],
    ['socket reset after sending', new ZoPayConnectionError({ ...m, requestSent: true }), 'retry', 'stop'],
    ['headers timeout after sending', new ZoPayTimeoutError({ ...m, requestSent: true }), 'retry', 'stop'],
    ['500', new ZoPayServerError({ ...m, httpStatus: 500 }), 'retry', 'stop'],
    ['503', new ZoPayServerError({ ...m, httpStatus: 503 }), 'retry', 'stop'],
    ['429', new ZoPayRateLimitError({ ...m, retryAfterSeconds: 2 }), 'wait-then-retry', 'wait-then-retry'],
    ['401', new ZoPayAuthenticationError(m), 'stop', 'stop'],
    ['403', new ZoPayForbiddenError(m), 'stop', 'stop'],
    ['400', new ZoPayInvalidRequestError(m), 'stop', 'stop'],
    ['402', new ZoPayInsufficientBalanceError(m), 'stop', 'stop'],
    ['404', new ZoPayNotFoundError(m), 'stop', 'stop'],
    ['409', new ZoPayConflictError(m), 'stop', 'stop'],
    ['circuit open', new ZoPayCircuitOpenError({ ...m, retryAfterSeconds: 5 }), 'stop', 'stop'],
    ['unreadable 2xx', new ZoPayBadResponseError(m), 'stop', 'stop'],
    ['a bug (TypeError)', new TypeError('boom'), 'stop', 'stop'],
  ];

  it.each(table)('%s → %s when idempotent, %s when not', (_name, error, idempotent, nonIdempotent) => {
    expect(classifyForRetry(error, { idempotent: true })).toBe(idempotent);
    expect(classifyForRetry(error, { idempotent: false })).toBe(nonIdempotent);
  });
});

describe('backoffDelay', () => {
  const opts = { baseMs: 100, maxMs: 2_000 };

  it('grows exponentially up to the cap when jitter is at its top', () => {
    const top = { ...opts, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, top))).toEqual([99, 199, 399, 799, 1599, 1999]);
  });

  it('is zero at the bottom of the jitter', () => {
    expect(backoffDelay(4, { ...opts, random: () => 0 })).toBe(0);
  });

  it('always stays within [0, min(max, base·2^(attempt-1)))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, { ...opts, random: () => r });
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1)));
        expect(Number.isInteger(d)).toBe(true);
      }),
    );
  });

  it('tolerates a random source outside [0, 1)', () => {
    expect(backoffDelay(1, { ...opts, random: () => 7 })).toBe(100);
    expect(backoffDelay(1, { ...opts, random: () => -1 })).toBe(0);
  });
});
