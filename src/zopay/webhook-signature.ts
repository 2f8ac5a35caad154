import { createHmac, timingSafeEqual } from 'node:crypto';

/** ZoPay accepts, and we enforce, ±5 minutes between the signed timestamp and our clock. */
export const WEBHOOK_TOLERANCE_MS = 300_000;

export const WEBHOOK_VERIFY_FAILURES = {
  MISSING_SIGNATURE: 'the X-Zo-Signature header is missing',
  MISSING_TIMESTAMP: 'the X-Zo-Timestamp header is missing',
  MALFORMED_TIMESTAMP: 'X-Zo-Timestamp is not a whole number of milliseconds',
  MALFORMED_SIGNATURE: 'X-Zo-Signature is not 64 lowercase hex characters',
  TIMESTAMP_OUT_OF_TOLERANCE: 'X-Zo-Timestamp is more than 5 minutes away from our clock',
  SIGNATURE_MISMATCH: 'X-Zo-Signature does not match the HMAC of timestamp + "." + raw body',
} as const;
export type WebhookVerifyFailure = keyof typeof WEBHOOK_VERIFY_FAILURES;

export type WebhookVerifyResult = { ok: true; timestampMs: number } | { ok: false; reason: WebhookVerifyFailure };

export interface WebhookVerifyInput {
  /** The exact request body bytes (or their UTF-8 string), before any JSON parsing. */
  rawBody: Buffer | string;
  signature: string | undefined;
  timestamp: string | undefined;
  /** One or more accepted secrets (several during a rotation window). */
  secrets: readonly string[];
  nowMs: number;
  toleranceMs?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const DIGITS = /^\d{1,16}$/;

/** HMAC-SHA256 hex of `timestamp + "." + rawBody` (zopay-api.md §5.3). */
export function signWebhook(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return webhookDigest(secret, timestamp, rawBody).toString('hex');
}

function webhookDigest(secret: string, timestamp: string, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(timestamp + '.', 'utf8').update(rawBody).digest();
}

/**
 * Verifies a ZoPay webhook on its raw bytes. Cheap checks come first (presence, shape, clock), so a
 * malformed or stale delivery costs no HMAC; the comparison is constant-time over equal lengths.
 */
export function verifyWebhook(input: WebhookVerifyInput): WebhookVerifyResult {
  const { signature, timestamp } = input;
  if (!signature) return { ok: false, reason: 'MISSING_SIGNATURE' };
  if (!timestamp) return { ok: false, reason: 'MISSING_TIMESTAMP' };
  if (!DIGITS.test(timestamp)) return { ok: false, reason: 'MALFORMED_TIMESTAMP' };
  if (!HEX64.test(signature)) return { ok: false, reason: 'MALFORMED_SIGNATURE' };
  const timestampMs = Number(timestamp);
  if (Math.abs(input.nowMs - timestampMs) > (input.toleranceMs ?? WEBHOOK_TOLERANCE_MS)) {
    return { ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' };
  }
  const given = Buffer.from(signature, 'hex');
  let matched = false;
  for (const secret of input.secrets) {
    const expected = webhookDigest(secret, timestamp, input.rawBody);
    // Evaluate every secret so timing does not reveal which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  return matched ? { ok: true, timestampMs } : { ok: false, reason: 'SIGNATURE_MISMATCH' };
}

/** Headers of a signed delivery, for the sandbox and tests (never hand-roll a signature in a test). */
export function signedWebhookHeaders(opts: {
  secret: string;
  rawBody: string;
  event: string;
  deliveryId: string;
  timestampMs: number;
  replay?: boolean;
}): Record<string, string> {
  const timestamp = String(opts.timestampMs);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-zo-event': opts.event,
    'x-zo-delivery-id': opts.deliveryId,
    'x-zo-timestamp': timestamp,
    'x-zo-signature': signWebhook(opts.secret, timestamp, opts.rawBody),
  };
  if (opts.replay) headers['x-zo-replay'] = 'true';
  return headers;
}
