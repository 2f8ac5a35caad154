import { z } from 'zod';
import { GATEWAYS, PAYOUT_STATUSES, type Gateway, type PayoutFailure, type PayoutStatus } from './types.js';

/**
 * Field-level tolerance shared by every wire shape (zopay-api.md §8, §9 #12, #14, #24, #25).
 * Each helper accepts what ZoPay has been seen to send and returns the one domain form.
 */

/** An amount as ZoPay sent it. Strings are kept verbatim; a bare JSON number is tolerated and stringified. */
export const wireAmount = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? String(v) : v));

/** Ids are strings in every example; a numeric id is tolerated. */
export const wireId = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

/** Any string or absent/null; absent and null both read as "not carried". */
export const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

export const optionalAmount = wireAmount.nullish().transform((v) => v ?? undefined);

/** A JSON object (not null, not an array): the only shape with fields to read. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KNOWN_STATUSES: ReadonlySet<string> = new Set(PAYOUT_STATUSES);

/** Unknown strings (e.g. "VERIFYING") are non-final: PROCESSING. The raw string is kept separately. */
export function toPayoutStatus(raw: string): PayoutStatus {
  const upper = raw.trim().toUpperCase();
  return KNOWN_STATUSES.has(upper) ? (upper as PayoutStatus) : 'PROCESSING';
}

const KNOWN_GATEWAYS: ReadonlySet<string> = new Set(GATEWAYS);

/** An unknown gateway name is dropped rather than guessed. */
export function toGateway(raw: string | null | undefined): Gateway | undefined {
  return raw !== null && raw !== undefined && KNOWN_GATEWAYS.has(raw) ? (raw as Gateway) : undefined;
}

/** E.164 with a leading `+`; webhooks and test-number tables omit it. */
export function toMsisdn(raw: string | null | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  return value.startsWith('+') ? value : `+${value}`;
}

/**
 * `payout.error` has no documented shape (§9 #12): a string becomes `{message}`, an object
 * `{code?, message}`, and the webhook's flat `failure_reason` fills in when nothing better exists.
 * Returns null for an explicit "no error", undefined when the source carries no error field at all.
 */
export function toFailure(error: unknown, fallbackReason?: string | null): PayoutFailure | null | undefined {
  const reason = typeof fallbackReason === 'string' && fallbackReason.trim() !== '' ? fallbackReason : undefined;
  if (typeof error === 'string' && error.trim() !== '') return { message: error };
  if (isJsonObject(error)) {
    const { code, message } = error;
    const c = typeof code === 'string' && code !== '' ? code : undefined;
    const m = typeof message === 'string' && message !== '' ? message : undefined;
    const text = m ?? reason ?? c;
    if (text !== undefined) return c === undefined ? { message: text } : { code: c, message: text };
  }
  if (reason !== undefined) return { message: reason };
  return error === undefined ? undefined : null;
}
