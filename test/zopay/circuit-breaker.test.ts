import { describe, expect, it } from 'vitest';
import { breakerOutcomeOf, CircuitBreaker } from '../../src/zopay/circuit-breaker.js';
import {
  ZoPayBadResponseError,
  ZoPayCircuitOpenError,
  ZoPayConnectionError,
  ZoPayInvalidRequestError,
  ZoPayRateLimitError,
  ZoPayServerError,
  ZoPayTimeoutError,
} from '../../src/zopay/errors.js';

function setup(failureThreshold = 3, coolDownMs = 10_000) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const breaker = new CircuitBreaker({ failureThreshold, coolDownMs, clock });
  const fail = (n = 1) => {
    for (let i = 0; i < n; i++) {
      breaker.acquire();
      breaker.record('failure');
    }
  };
  return { clock, breaker, fail };
}

function openError(fn: () => void): ZoPayCircuitOpenError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ZoPayCircuitOpenError) return err;
    throw err;
  }
  throw new Error('expected ZoPayCircuitOpenError');
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold of consecutive failures', () => {
    const { breaker, fail } = setup();
    fail(2);
    expect(breaker.state).toBe('closed');
    expect(() => breaker.acquire()).not.toThrow();
  });

  it('opens after N consecutive failures and fails fast with the remaining cool-down', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    expect(breaker.state).toBe('open');
    clock.t += 2_500;
    const err = openError(() => breaker.acquire());
    expect(err.retryAfterSeconds).toBe(8);
    expect(err.mayHaveReachedUpstream).toBe(false);
  });

  it('resets the count when ZoPay answers in between', () => {
    const { breaker, fail } = setup();
    fail(2);
    breaker.acquire();
    breaker.record(breakerOutcomeOf(new ZoPayInvalidRequestError({ message: 'x' })));
    fail(2);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through once the cool-down has passed', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    expect(breaker.state).toBe('half-open');
    expect(() => breaker.acquire()).not.toThrow();
    expect(openError(() => breaker.acquire()).retryAfterSeconds).toBe(1);
  });

  it('closes when the probe succeeds', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    breaker.acquire();
    breaker.record('success');
    expect(breaker.state).toBe('closed');
    fail(2);
    expect(breaker.state).toBe('closed');
  });

  it('re-opens for a full cool-down when the probe fails', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    fail(1);
    expect(breaker.state).toBe('open');
    clock.t += 9_999;
    expect(breaker.state).toBe('open');
    clock.t += 1;
    expect(breaker.state).toBe('half-open');
  });

  it('frees the probe slot when the probe ends without a verdict', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    breaker.acquire();
    breaker.record('ignored');
    expect(breaker.state).toBe('half-open');
    expect(() => breaker.acquire()).not.toThrow();
  });

  it('lets a new probe through when the previous one never reported back', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    breaker.acquire();
    clock.t += 10_000;
    expect(() => breaker.acquire()).not.toThrow();
  });

  it.each([
    ['5xx', new ZoPayServerError({ message: 'x' }), 'failure'],
    ['timeout', new ZoPayTimeoutError({ message: 'x', requestSent: true }), 'failure'],
    ['connection refused', new ZoPayConnectionError({ message: 'x', requestSent: false }), 'failure'],
    ['4xx', new ZoPayInvalidRequestError({ message: 'x' }), 'success'],
    ['429', new ZoPayRateLimitError({ message: 'x' }), 'success'],
    ['unreadable 2xx', new ZoPayBadResponseError({ message: 'x' }), 'success'],
    ['no error', undefined, 'success'],
    ['circuit open', new ZoPayCircuitOpenError({ message: 'x', retryAfterSeconds: 1 }), 'ignored'],
    ['a bug', new TypeError('x'), 'ignored'],
  ])('counts %s as %s', (_name, error, outcome) => {
    expect(breakerOutcomeOf(error)).toBe(outcome);
  });
});
