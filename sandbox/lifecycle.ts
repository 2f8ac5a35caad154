/**
 * The payout state machine (§4, §9 #14): PENDING → PROCESSING at execute, then SUCCESS or FAILED after the
 * processing delay, or at the first GET ("completes on first check"). A final status never changes; a
 * FAILED payout gives the merchant back everything it was debited.
 */
import type { Ledger, PayoutRecord } from './ledger.js';
import type { PayoutError } from './ledger-types.js';
import { maskMsisdn } from './test-numbers.js';
import type { Scheduler } from './scheduler.js';
import { totalDebit } from './views.js';

export interface LifecycleDeps {
  ledger: Ledger;
  scheduler: Scheduler;
  now: () => number;
  /** Real ms from execute to the final status, already divided by the time scale. */
  processingDelayMs: number;
  resolveOnFirstCheck: boolean;
  /** Called once per payout when it reaches SUCCESS or FAILED. */
  onFinal: (p: PayoutRecord) => void;
  log: (line: string) => void;
}

export interface Lifecycle {
  /** A freshly created payout: moves it to PROCESSING and schedules its outcome. */
  start(p: PayoutRecord): void;
  /** A GET saw the payout. */
  checked(p: PayoutRecord): void;
  /** Forces a final status. Throws for an unknown or already final payout. */
  settle(payoutId: string, status: 'SUCCESS' | 'FAILED', error?: PayoutError): void;
}

const DEFAULT_FORCED_FAILURE: PayoutError = { code: 'DECLINED', message: 'Declined' };

export function createLifecycle(deps: LifecycleDeps): Lifecycle {
  const timers = new Map<string, () => void>();

  const finalise = (p: PayoutRecord, status: 'SUCCESS' | 'FAILED', error: PayoutError | null) => {
    if (p.status !== 'PENDING' && p.status !== 'PROCESSING') {
      throw new Error(`payout ${p.id} is already ${p.status}; final statuses never change`);
    }
    timers.get(p.id)?.();
    timers.delete(p.id);
    p.status = status;
    p.completedAt = deps.now();
    p.error = status === 'FAILED' ? error : null;
    if (status === 'FAILED') deps.ledger.credit(totalDebit(p));
    deps.log(`payout ${p.id} ${status} recipient=${maskMsisdn(p.msisdn)}${p.error ? ` reason=${p.error.code}` : ''}`);
    deps.onFinal(p);
  };

  const resolveNow = (p: PayoutRecord) => {
    const outcome = p.behaviour.outcome;
    if (outcome.status === 'SUCCESS') finalise(p, 'SUCCESS', null);
    else if (outcome.status === 'FAILED') finalise(p, 'FAILED', outcome.error);
  };

  return {
    start(p) {
      p.status = 'PROCESSING';
      if (p.behaviour.outcome.status === 'PENDING') return;
      const cancel = deps.scheduler.after(deps.processingDelayMs, () => {
        timers.delete(p.id);
        if (p.status === 'PROCESSING') resolveNow(p);
      });
      timers.set(p.id, cancel);
    },
    checked(p) {
      if (deps.resolveOnFirstCheck && p.status === 'PROCESSING') resolveNow(p);
    },
    settle(payoutId, status, error) {
      const p = deps.ledger.payout(payoutId);
      if (!p) throw new Error(`unknown payout ${payoutId}`);
      finalise(p, status, status === 'FAILED' ? (error ?? DEFAULT_FORCED_FAILURE) : null);
    },
  };
}
