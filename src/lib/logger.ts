import { pino, type Logger, type DestinationStream } from 'pino';
import { maskEveryPhoneForm, maskMsisdn, maskPhoneNumbers } from './msisdn.js';

export type { Logger };

const MSISDN_KEYS = new Set(['msisdn', 'recipientmsisdn', 'recipient_msisdn', 'customer_msisdn', 'phone']);
const SECRET_KEYS = new Set(['authorization', 'apikey', 'api_key', 'x-zo-key', 'x-zo-nonce', 'cookie', 'set-cookie', 'connectionparams']);
const MAX_DEPTH = 8;

function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key) || key.includes('secret') || key.includes('token') || key.includes('password') || key.includes('signature');
}

/**
 * Redaction at any depth, by key name: secrets, tokens, signatures, API keys and Authorization headers
 * become "[Redacted]"; phone numbers are masked (`+2376*****001`) under their keys and inside any string.
 * Walking the (small) log object costs less than path-based redaction with wildcards.
 */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhoneNumbers(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: maskEveryPhoneForm(value.message) };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const k = key.toLowerCase();
    if (isSecretKey(k)) out[key] = '[Redacted]';
    else if (MSISDN_KEYS.has(k)) out[key] = typeof v === 'string' ? maskMsisdn(v) : scrub(v, depth + 1);
    else out[key] = scrub(v, depth + 1);
  }
  return out;
}

/** JSON logs with redaction (see scrub) on every line. */
export function createLogger(opts: { level: string; destination?: DestinationStream; base?: Record<string, unknown> }): Logger {
  return pino(
    {
      level: opts.level,
      base: opts.base ?? {},
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Asynchronous stdout by default (lines written while a write is in flight are coalesced): a
    // synchronous write per log line costs a tenth of a request's CPU. main.ts flushes before exit.
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
