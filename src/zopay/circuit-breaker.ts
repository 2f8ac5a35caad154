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
 * closed ──most recent answers in trouble──► open ──cool-down──► half-open ──probe ok──► closed
 *                                              ▲                      │
 *                                              └──── probe fails ─────┘
 *
 * "Trouble" is a 5xx, a timeout or a connection failure; any other answer from ZoPay (2xx, 4xx, 429)
 * proves it is up. The circuit opens when at least `failureThreshold` of ZoPay's recent answers (the
 * last `window`, none older than `windowMs`) are trouble AND they are at least half of them. A count of
 * consecutive failures would open on a burst: many calls in flight together meet one short fault and
 * fail together, and a ZoPay that fails one call in five would be cut off for every caller although
 * four in five would have gone through (each failed call retries with the same idempotency key). With
 * few calls the two agree: N failures in a row open it. In half-open state exactly one probe goes
 * through at a time, and only the probe's result decides; answers to calls sent before the circuit
 * opened do not.
 */

export const CIRCUIT_STATES = { CLOSED: 'closed', OPEN: 'open', HALF_OPEN: 'half-open' } as const;
export type CircuitState = (typeof CIRCUIT_STATES)[keyof typeof CIRCUIT_STATES];

/** How an attempt ended, as far as ZoPay's health is concerned. */
export type BreakerOutcome = 'success' | 'failure' | 'ignored';

export interface CircuitBreakerOptions {
  /** Trouble answers among the recent ones that open the circuit (if they are also at least half). Default 5. */
  failureThreshold?: number;
  /** How many of ZoPay's latest answers are weighed. Default 20, at least 2 × failureThreshold. */
  window?: number;
  /** An answer older than this no longer counts. Default 60 000 ms. */
  windowMs?: number;
  /** How long the circuit stays open before letting a probe through. Default 30 000 ms. */
  coolDownMs?: number;
  clock?: { now(): number };
  /** Called when the circuit opens (with the answers that opened it) and when it closes again. */
  onStateChange?: (change: CircuitStateChange) => void;
}

/** What `acquire()` hands out: whether this attempt is the half-open circuit's one probe. */
export interface BreakerTicket {
  readonly probe: boolean;
}

const NOT_A_PROBE: BreakerTicket = Object.freeze({ probe: false });

export type CircuitStateChange =
  | { state: 'open'; failures: number; answers: number; probe: boolean }
  | { state: 'closed' };

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
  readonly window: number;
  readonly windowMs: number;
  readonly coolDownMs: number;
  private readonly clock: { now(): number };
  private readonly onStateChange: ((change: CircuitStateChange) => void) | undefined;
  /** ZoPay's recent answers while closed, oldest first: when each came and whether it was trouble. */
  private readonly recent: { at: number; failed: boolean }[] = [];
  private openedAt: number | undefined;
  /** The probe now out and when it went; a late answer to an earlier probe or call is not its answer. */
  private probe: (BreakerTicket & { readonly startedAt: number }) | undefined;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = Math.max(1, opts.failureThreshold ?? 5);
    this.window = Math.max(opts.window ?? 20, 2 * this.failureThreshold);
    this.windowMs = Math.max(1, opts.windowMs ?? 60_000);
    this.coolDownMs = Math.max(0, opts.coolDownMs ?? 30_000);
    this.clock = opts.clock ?? Date;
    this.onStateChange = opts.onStateChange;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now() - this.openedAt >= this.coolDownMs ? 'half-open' : 'open';
  }

  /**
   * Call before sending. Throws ZoPayCircuitOpenError when the call must not be sent; otherwise the
   * caller must report the attempt's end with `record()`, passing the ticket back (a half-open probe
   * slot is held until then).
   */
  acquire(): BreakerTicket {
    const now = this.clock.now();
    const state = this.state;
    if (state === 'closed') return NOT_A_PROBE;
    if (state === 'half-open') {
      // A probe whose result never came back (a caller bug or crash) frees its slot after a cool-down.
      if (this.probe === undefined || now - this.probe.startedAt >= this.coolDownMs) {
        this.probe = { probe: true, startedAt: now };
        return this.probe;
      }
      throw this.openError(1);
    }
    throw this.openError(Math.ceil(((this.openedAt ?? now) + this.coolDownMs - now) / 1000));
  }

  /**
   * The end of an attempt that `acquire()` let through, with its ticket. While the circuit is not closed
   * only the probe's answer counts: the others were sent before it opened and say nothing about ZoPay
   * since (nor do they free the probe's slot). Without a ticket, an answer is taken as the probe's when
   * one is out.
   */
  record(outcome: BreakerOutcome, ticket?: BreakerTicket): void {
    if (ticket && ticket !== this.probe && this.openedAt !== undefined) return;
    const wasProbe = this.probe !== undefined;
    this.probe = undefined;
    if (outcome === 'ignored') return;
    if (this.openedAt !== undefined) {
      if (!wasProbe) return;
      if (outcome === 'success') {
        this.openedAt = undefined;
        this.onStateChange?.({ state: 'closed' });
      } else {
        this.open({ failures: 1, answers: 1, probe: true });
      }
      return;
    }
    const now = this.clock.now();
    this.recent.push({ at: now, failed: outcome === 'failure' });
    while (this.recent.length > this.window || (this.recent[0] as { at: number }).at <= now - this.windowMs) this.recent.shift();
    if (outcome !== 'failure') return;
    let failures = 0;
    for (const r of this.recent) if (r.failed) failures++;
    if (failures >= this.failureThreshold && 2 * failures >= this.recent.length) this.open({ failures, answers: this.recent.length, probe: false });
  }

  private open(why: { failures: number; answers: number; probe: boolean }): void {
    this.openedAt = this.clock.now();
    this.recent.length = 0;
    this.onStateChange?.({ state: 'open', ...why });
  }

  private openError(retryAfterSeconds: number): ZoPayCircuitOpenError {
    return new ZoPayCircuitOpenError({
      message: 'ZoPay calls are suspended after repeated upstream failures; nothing was sent',
      retryAfterSeconds: Math.max(1, retryAfterSeconds),
    });
  }
}
