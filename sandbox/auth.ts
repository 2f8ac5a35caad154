/**
 * HMAC request authentication, as ZoPay documents it (zopay-api.md §2, §9 #4–#8, #26). Checks run from
 * cheap to expensive; the nonce is checked and recorded only once the signature is valid, so a caller
 * without the secret can neither burn a client's nonces nor learn which ones were used.
 */
import { timingSafeEqual } from 'node:crypto';
import { signRequest } from '../src/zopay/sign.js';
import type { NonceStore } from './nonce-store.js';
import { ERROR_CODES, errorReply, type Reply } from './reply.js';

export const AUTH_HEADERS = [
  'x-zo-key',
  'x-zo-timestamp',
  'x-zo-nonce',
  'x-zo-origin',
  'x-zo-signature',
  'x-zo-version',
] as const;

export const SUPPORTED_VERSION = '1.0';
export const TIMESTAMP_TOLERANCE_MS = 300_000;

export const AUTH_MESSAGES = {
  UNKNOWN_KEY: 'Merchant not found',
  TOO_OLD: 'Request too old',
  BAD_TIMESTAMP: 'Invalid timestamp',
  BAD_NONCE: 'Invalid nonce',
  NONCE_USED: 'Nonce already used',
  BAD_SIGNATURE: 'Invalid signature',
} as const;

export interface AuthRequest {
  method: string;
  /** Path exactly as received. */
  path: string;
  /** Decoded query values (§9 #4: signed raw and sorted). */
  query: Record<string, string>;
  rawBody: string;
  headers: Record<string, string>;
}

export interface AuthDeps {
  apiKey: string;
  apiSecret: string;
  /** Already normalised with normaliseOrigin. */
  allowedOrigins: ReadonlySet<string>;
  nonces: NonceStore;
  now: number;
}

export type AuthResult = { ok: true; apiKey: string } | { ok: false; reply: Reply };

const HEX64 = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,16}$/;
const MAX_NONCE_LENGTH = 256;

/** §9 #8: lower case, no trailing slash. */
export function normaliseOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/**
 * §9 #5: the server re-serialises the parsed body (what an Express `JSON.stringify(req.body)` does), which
 * equals the raw compact body a correct client signs. Bodiless methods and empty bodies sign ''. A body
 * that is not JSON is signed as received; the route then rejects it.
 */
export function canonicalBody(method: string, rawBody: string): string {
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || rawBody === '') return '';
  try {
    return JSON.stringify(JSON.parse(rawBody));
  } catch {
    return rawBody;
  }
}

const unauthorized = (message: string) => errorReply(401, ERROR_CODES.AUTH_ERROR, message);

export function authenticate(req: AuthRequest, deps: AuthDeps): AuthResult {
  for (const name of AUTH_HEADERS) {
    if (!req.headers[name]) return { ok: false, reply: unauthorized(`Missing required header ${name}`) };
  }
  const h = (name: (typeof AUTH_HEADERS)[number]) => req.headers[name] ?? '';
  if (h('x-zo-version') !== SUPPORTED_VERSION) {
    return {
      ok: false,
      reply: errorReply(400, ERROR_CODES.UNSUPPORTED_VERSION, `Unsupported x-zo-version; use ${SUPPORTED_VERSION}`),
    };
  }
  if (!safeEqual(h('x-zo-key'), deps.apiKey)) return { ok: false, reply: unauthorized(AUTH_MESSAGES.UNKNOWN_KEY) };

  const timestamp = h('x-zo-timestamp');
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reply: unauthorized(AUTH_MESSAGES.BAD_TIMESTAMP) };
  // Symmetric window (§9 #7): a timestamp from the future is as unacceptable as a stale one.
  if (Math.abs(deps.now - Number(timestamp) * 1000) > TIMESTAMP_TOLERANCE_MS) {
    return { ok: false, reply: unauthorized(AUTH_MESSAGES.TOO_OLD) };
  }
  const nonce = h('x-zo-nonce');
  if (nonce.length > MAX_NONCE_LENGTH) return { ok: false, reply: unauthorized(AUTH_MESSAGES.BAD_NONCE) };

  const origin = h('x-zo-origin');
  const given = h('x-zo-signature');
  const expected = signRequest(
    {
      method: req.method,
      path: req.path,
      query: req.query,
      body: canonicalBody(req.method, req.rawBody),
      timestamp,
      nonce,
      origin,
    },
    deps.apiSecret,
  );
  if (!HEX64.test(given) || !timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'))) {
    return { ok: false, reply: unauthorized(AUTH_MESSAGES.BAD_SIGNATURE) };
  }
  if (!deps.allowedOrigins.has(normaliseOrigin(origin))) {
    return { ok: false, reply: errorReply(403, ERROR_CODES.ORIGIN_NOT_ALLOWED, 'Origin not allowed') };
  }
  if (deps.nonces.seen(deps.apiKey, nonce, deps.now)) {
    return { ok: false, reply: unauthorized(AUTH_MESSAGES.NONCE_USED) };
  }
  deps.nonces.record(deps.apiKey, nonce, deps.now);
  return { ok: true, apiKey: deps.apiKey };
}

/** Constant-time string equality (the key is not secret, but costs nothing to compare carefully). */
function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
