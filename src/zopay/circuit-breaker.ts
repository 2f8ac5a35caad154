import {
  ZoPayCircuitOpenError,
  ZoPayConnectionError,
  ZoPayError,
  ZoPayServerError,
  ZoPayTimeoutError,
} from './errors.js';

/**
 * Fails fast while ZoPay is down, so a dead upstream costs callers nothing but an error.
 *
 * closed ──N consecutive trouble results──► open ──cool-down──► half-open ──probe ok──► closed
 *                                             ▲                      │
 *                                             └──── probe fails ─────┘
 *
 * "Trouble" is a 5xx, a timeout or a connection failure. Any other answer from ZoPay (2xx, 4xx, 429)
 * proves it is up and resets the count. In half-open state exactly one probe goes through at a time.
 */

export const CIRCUIT_STATES = { CLOSED: 'closed', OPEN: 'open', HALF_OPEN: 'half-open' } as const;
export type CircuitState = (typeof CIRCUIT_STATES)[keyof typeof CIRCUIT_STATES];

/** How an attempt ended, as far as ZoPay's health is concerned. */
export type BreakerOutcome = 'success' | 'failure' | 'ignored';

export interface CircuitBreakerOptions {
  /** Consecutive trouble results that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before letting a probe through. Default 30 000 ms. */
  coolDownMs?: number;
  clock?: { now(): number };
}

/**
 * What an attempt's end says about ZoPay: `undefined` (no error) and answers such as 4xx are `success`;
 * 5xx, timeouts and connection failures are `failure`; anything that is not about ZoPay is `ignored`.
 */
export function breakerOutcomeOf(error: unknown): BreakerOutcome {
  if (error === undefined) return 'success';
  if (error instanceof ZoPayServerError || error instanceof ZoPayTimeoutError || error instanceof ZoPayConnectionError) {
    return 'failure';
  }
  if (error instanceof ZoPayCircuitOpenError || !(error instanceof ZoPayError)) return 'ignored';
  return 'success';
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private readonly clock: { now(): number };
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private probeStartedAt: number | undefined;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = Math.max(1, opts.failureThreshold ?? 5);
    this.coolDownMs = Math.max(0, opts.coolDownMs ?? 30_000);
    this.clock = opts.clock ?? Date;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now() - this.openedAt >= this.coolDownMs ? 'half-open' : 'open';
  }

  /**
   * Call before sending. Throws ZoPayCircuitOpenError when the call must not be sent; otherwise the
   * caller must report the attempt's end with `record()` (a half-open probe slot is held until then).
   */
  acquire(): void {
    const now = this.clock.now();
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open') {
      // A probe whose result never came back (a caller bug or crash) frees its slot after a cool-down.
      const probeStuck = this.probeStartedAt !== undefined && now - this.probeStartedAt >= this.coolDownMs;
      if (this.probeStartedAt === undefined || probeStuck) {
        this.probeStartedAt = now;
        return;
      }
      throw this.openError(1);
    }
    throw this.openError(Math.ceil(((this.openedAt ?? now) + this.coolDownMs - now) / 1000));
  }

  record(outcome: BreakerOutcome): void {
    const wasProbe = this.probeStartedAt !== undefined;
    if (outcome === 'ignored') {
      this.probeStartedAt = undefined;
      return;
    }
    if (outcome === 'success') {
      this.consecutiveFailures = 0;
      this.openedAt = undefined;
      this.probeStartedAt = undefined;
      return;
    }
    this.consecutiveFailures += 1;
    if (wasProbe || this.consecutiveFailures >= this.failureThreshold) {
      this.openedAt = this.clock.now();
      this.probeStartedAt = undefined;
    }
  }

  private openError(retryAfterSeconds: number): ZoPayCircuitOpenError {
    return new ZoPayCircuitOpenError({
      message: 'ZoPay calls are suspended after repeated upstream failures; nothing was sent',
      retryAfterSeconds: Math.max(1, retryAfterSeconds),
    });
  }
}
