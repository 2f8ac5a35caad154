/**
 * Sandbox MSISDNs and what they do. Suffixes 01–05 are ZoPay's own deterministic test numbers
 * (zopay-api.md §7); 06–16 are this simulator's magic inputs for fault scenarios (not ZoPay's).
 * Every number exists for both gateways: MTN_MOMO `2376700000NN`, ORANGE_MONEY `2376900000NN`.
 */
import type { Gateway } from '../src/zopay/types.js';
import type { PayoutError } from './ledger-types.js';
import type { FaultKind } from './types.js';

export type Outcome =
  | { status: 'SUCCESS' }
  | { status: 'FAILED'; error: PayoutError }
  /** Stays PROCESSING forever (ZoPay's table says "PENDING, never resolves"; execute already said PROCESSING). */
  | { status: 'PENDING' };

export interface NumberBehaviour {
  outcome: Outcome;
  /** A fault applied to the first execute attempt of each idempotency key with this recipient. */
  executeFault?: { kind: FaultKind; delayMs?: number; retryAfterSeconds?: number };
  webhook?: { duplicateCount?: number; outOfOrder?: boolean; dropFirstAttempt?: boolean };
  description: string;
}

const GATEWAY_PREFIX: Record<Gateway, string> = { MTN_MOMO: '23767', ORANGE_MONEY: '23769' };

const SUCCESS: Outcome = { status: 'SUCCESS' };
export const FAILURES = {
  INSUFFICIENT_FUNDS: { code: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' },
  DECLINED: { code: 'DECLINED', message: 'Declined' },
  INVALID_MSISDN: { code: 'INVALID_MSISDN', message: 'Invalid recipient' },
} as const satisfies Record<string, PayoutError>;

/** Keyed by the last two digits after `2376X00000`. */
export const BEHAVIOURS: Readonly<Record<string, NumberBehaviour>> = {
  '01': { outcome: SUCCESS, description: 'SUCCESS, completes on first check' },
  '02': { outcome: SUCCESS, description: 'SUCCESS, completes on first check' },
  '03': { outcome: { status: 'FAILED', error: FAILURES.INSUFFICIENT_FUNDS }, description: 'FAILED, insufficient funds' },
  '04': { outcome: { status: 'FAILED', error: FAILURES.DECLINED }, description: 'FAILED, declined' },
  '05': { outcome: { status: 'PENDING' }, description: 'never resolves (stays PROCESSING)' },
  '06': { outcome: SUCCESS, webhook: { duplicateCount: 2 }, description: 'SUCCESS; the webhook arrives 3 times' },
  '07': { outcome: SUCCESS, webhook: { outOfOrder: true }, description: 'SUCCESS; a stale payout.processing follows' },
  '08': { outcome: SUCCESS, webhook: { dropFirstAttempt: true }, description: 'SUCCESS; first webhook attempt lost' },
  '09': { outcome: { status: 'FAILED', error: FAILURES.INVALID_MSISDN }, description: 'FAILED, invalid recipient' },
  '10': { outcome: SUCCESS, executeFault: { kind: 'http500' }, description: 'first execute per key: 500' },
  '11': { outcome: SUCCESS, executeFault: { kind: 'http503' }, description: 'first execute per key: 503' },
  '12': {
    outcome: SUCCESS,
    executeFault: { kind: 'rate429', retryAfterSeconds: 2 },
    description: 'first execute per key: 429, retry_after 2',
  },
  '13': { outcome: SUCCESS, executeFault: { kind: 'commitThenHang' }, description: 'first execute per key: commit, no answer' },
  '14': { outcome: SUCCESS, executeFault: { kind: 'commitThenReset' }, description: 'first execute per key: commit, reset' },
  '15': { outcome: SUCCESS, executeFault: { kind: 'resetBeforeCommit' }, description: 'first execute per key: reset, nothing created' },
  '16': { outcome: SUCCESS, executeFault: { kind: 'slow', delayMs: 2000 }, description: 'first execute per key: answers after 2 s' },
};

const TEST_NUMBER = /^\+(2376[79])00000(\d\d)$/;

export type MsisdnCheck = { ok: true; behaviour: NumberBehaviour } | { ok: false; reason: string };

/** A recipient is valid only if it is a sandbox number (E.164 with `+`) of the requested gateway. */
export function checkMsisdn(msisdn: string, gateway: Gateway): MsisdnCheck {
  const m = TEST_NUMBER.exec(msisdn);
  const behaviour = m?.[2] === undefined ? undefined : BEHAVIOURS[m[2]];
  if (!m || !behaviour) {
    return { ok: false, reason: 'Not a sandbox test number (E.164 with +, see the sandbox README)' };
  }
  if (m[1] !== GATEWAY_PREFIX[gateway]) return { ok: false, reason: `Number does not belong to ${gateway}` };
  return { ok: true, behaviour };
}

/** The behaviour of a number already validated at quote time. */
export function behaviourOf(msisdn: string): NumberBehaviour | undefined {
  const suffix = TEST_NUMBER.exec(msisdn)?.[2];
  return suffix === undefined ? undefined : BEHAVIOURS[suffix];
}

/** Logs show the country code and the last two digits only: "+237*******01". */
export function maskMsisdn(msisdn: string): string {
  if (msisdn.length <= 6) return '***';
  return `${msisdn.slice(0, 4)}${'*'.repeat(msisdn.length - 6)}${msisdn.slice(-2)}`;
}
