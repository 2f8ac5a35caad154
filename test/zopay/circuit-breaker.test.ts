import { describe, expect, it } from 'vitest';
import { breakerOutcomeOf, CircuitBreaker, type CircuitStateChange } from '../../src/zopay/circuit-breaker.js';
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
  const changes: CircuitStateChange[] = [];
  const breaker = new CircuitBreaker({ failureThreshold, coolDownMs, clock, onStateChange: (c) => changes.push(c) });
  const answer = (outcome: 'success' | 'failure', n = 1) => {
    for (let i = 0; i < n; i++) {
      breaker.acquire();
      breaker.record(outcome);
    }
  };
  const fail = (n = 1) => answer('failure', n);
  const succeed = (n = 1) => answer('success', n);
  return { clock, breaker, fail, succeed, changes };
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
  it('stays closed below the threshold of failures', () => {
    const { breaker, fail } = setup();
    fail(2);
    expect(breaker.state).toBe('closed');
    expect(() => breaker.acquire()).not.toThrow();
  });

  it('opens after N failures in a row and fails fast with the remaining cool-down', () => {
    const { breaker, fail, clock, changes } = setup();
    fail(3);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([{ state: 'open', failures: 3, answers: 3, probe: false }]);
    clock.t += 2_500;
    const err = openError(() => breaker.acquire());
    expect(err.retryAfterSeconds).toBe(8);
    expect(err.mayHaveReachedUpstream).toBe(false);
  });

  it('stays closed through a burst of failures while most of the recent answers are good', () => {
    // Many calls in flight meet one short fault together: a count of failures in a row would open here.
    const { breaker, fail, succeed } = setup();
    succeed(15);
    fail(9);
    expect(breaker.state).toBe('closed');
    // The last 20 answers are now half trouble: ZoPay is failing as often as it answers.
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('keeps counting failures across an answer in between: a ZoPay that mostly fails is cut off', () => {
    const { breaker, fail, succeed } = setup();
    fail(2);
    breaker.acquire();
    breaker.record(breakerOutcomeOf(new ZoPayInvalidRequestError({ message: 'x' })));
    succeed(1);
    expect(breaker.state).toBe('closed');
    // Three trouble answers of five: a count of failures in a row would have started again at the 4xx.
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('forgets answers older than its time window', () => {
    const { breaker, fail, succeed, clock } = setup();
    succeed(10);
    clock.t += 59_000;
    fail(3);
    expect(breaker.state).toBe('closed');
    clock.t += 1_001;
    // The ten successes are more than a minute old now: three failures of three.
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('weighs at least twice the threshold, whatever the window asked for', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 30, window: 20 });
    expect(breaker.window).toBe(60);
    for (let i = 0; i < 29; i++) breaker.record('failure');
    expect(breaker.state).toBe('closed');
    breaker.record('failure');
    expect(breaker.state).toBe('open');
  });

  it('lets exactly one probe through once the cool-down has passed', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    expect(breaker.state).toBe('half-open');
    expect(() => breaker.acquire()).not.toThrow();
    expect(openError(() => breaker.acquire()).retryAfterSeconds).toBe(1);
  });

  it('closes when the probe succeeds, and starts counting afresh', () => {
    const { breaker, fail, clock, changes } = setup();
    fail(3);
    clock.t += 10_000;
    breaker.acquire();
    breaker.record('success');
    expect(breaker.state).toBe('closed');
    expect(changes.at(-1)).toEqual({ state: 'closed' });
    fail(2);
    expect(breaker.state).toBe('closed');
  });

  it('is not closed by a late answer to a call sent before it opened: only the probe decides', () => {
    const { breaker, fail, clock } = setup();
    breaker.acquire(); // a call in flight while the others fail
    fail(3);
    expect(breaker.state).toBe('open');
    breaker.record('success');
    expect(breaker.state).toBe('open');
    clock.t += 10_000;
    expect(breaker.state).toBe('half-open');
  });

  it("keeps one probe at a time: a call sent before it opened ending without a verdict does not free the probe's slot", () => {
    const { breaker, fail, clock } = setup();
    const early = breaker.acquire(); // in flight while the others fail (waiting for the budget, say)
    expect(early.probe).toBe(false);
    fail(3);
    clock.t += 10_000;
    const probe = breaker.acquire();
    expect(probe.probe).toBe(true);
    breaker.record('ignored', early);
    expect(openError(() => breaker.acquire()).retryAfterSeconds).toBe(1);
    breaker.record('success', early);
    expect(breaker.state).toBe('half-open');
    breaker.record('success', probe);
    expect(breaker.state).toBe('closed');
  });

  it('takes only the current probe\'s answer when an earlier one was given up as stuck', () => {
    const { breaker, fail, clock } = setup();
    fail(3);
    clock.t += 10_000;
    const first = breaker.acquire();
    clock.t += 10_000; // no answer for a whole cool-down: a new probe may go
    const second = breaker.acquire();
    expect(second.probe).toBe(true);
    // The first one's late end neither frees the second one's slot nor decides for it.
    breaker.record('ignored', first);
    expect(openError(() => breaker.acquire()).retryAfterSeconds).toBe(1);
    breaker.record('success', first);
    expect(breaker.state).toBe('half-open');
    breaker.record('failure', second);
    expect(breaker.state).toBe('open');
  });

  it('re-opens for a full cool-down when the probe fails', () => {
    const { breaker, fail, clock, changes } = setup();
    fail(3);
    clock.t += 10_000;
    fail(1);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toEqual({ state: 'open', failures: 1, answers: 1, probe: true });
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
