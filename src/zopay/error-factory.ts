import {
  ZoPayAuthenticationError,
  ZoPayConflictError,
  ZoPayForbiddenError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayNotFoundError,
  ZoPayRateLimitError,
  ZoPayServerError,
  type ZoPayError,
  type ZoPayErrorInit,
} from './errors.js';
import type { TransportResponse } from './transport.js';

/**
 * The single place where a non-2xx ZoPay answer becomes a typed error. Logic keys on the HTTP status
 * (zopay-api.md §9 #13); ZoPay's `code ?? error` is kept only as `upstreamCode`. Messages are fixed
 * strings: the upstream body, headers, secrets and MSISDNs never reach them.
 */

export interface ErrorContext {
  /** The client operation, e.g. "executeDisbursement"; safe to show. */
  operation: string;
  /** Clock for `Retry-After` HTTP dates. Default Date.now(). */
  nowMs?: number;
}

interface ErrorBody {
  code?: unknown;
  error?: unknown;
  errors?: unknown;
  retry_after?: unknown;
  correlation_id?: unknown;
  correlationId?: unknown;
  request_id?: unknown;
}

/** A machine code looks like `AUTH_ERROR` or `Bad Request`; anything else (numbers, prose) is dropped. */
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_. -]{0,63}$/;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function safe(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}

function parseBody(text: string): ErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as ErrorBody) : {};
  } catch {
    return {};
  }
}

function fieldErrors(value: unknown): Record<string, string[]> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(value)) {
    if (typeof messages === 'string') out[field] = [messages];
    else if (Array.isArray(messages)) out[field] = messages.filter((m): m is string => typeof m === 'string');
  }
  return out;
}

/** Seconds from a `retry_after` value: a non-negative number of seconds (string or number). */
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.ceil(n) : undefined;
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterHeader(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const s = seconds(value);
  if (s !== undefined) return s;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * ZoPay's limit is a fixed 60-second window per API key (zopay-api.md §9 #22), so no wait it asks for
 * can be longer: a larger value (a proxy's date far ahead, a typo) would otherwise stop every call of
 * the instance (see the client's pause) and be handed to clients.
 */
export const MAX_RETRY_AFTER_SECONDS = 60;

function retryAfterSeconds(res: TransportResponse, body: ErrorBody, nowMs: number): number | undefined {
  const told = seconds(res.headers['retry_after']) ?? retryAfterHeader(res.headers['retry-after'], nowMs) ?? seconds(body.retry_after);
  return told === undefined ? undefined : Math.min(told, MAX_RETRY_AFTER_SECONDS);
}

export function errorFromResponse(res: TransportResponse, context: ErrorContext): ZoPayError {
  const body = parseBody(res.body);
  const status = res.status;
  const op = context.operation;
  const init = (message: string): ZoPayErrorInit => ({
    message,
    httpStatus: status,
    upstreamCode: safe(body.code, SAFE_CODE) ?? safe(body.error, SAFE_CODE),
    correlationId:
      safe(body.correlation_id, SAFE_ID) ??
      safe(body.correlationId, SAFE_ID) ??
      safe(body.request_id, SAFE_ID) ??
      safe(res.headers['x-correlation-id'], SAFE_ID) ??
      safe(res.headers['x-request-id'], SAFE_ID),
  });

  switch (status) {
    case 400:
    case 422:
      return new ZoPayInvalidRequestError({
        ...init(`ZoPay rejected the ${op} request as invalid (HTTP ${status}); see upstreamCode and fieldErrors`),
        fieldErrors: fieldErrors(body.errors),
      });
    case 401:
      return new ZoPayAuthenticationError(
        init(`ZoPay rejected the ${op} request's authentication (HTTP 401); check the API key, secret, clock and nonce`),
      );
    case 402:
      return new ZoPayInsufficientBalanceError(init(`ZoPay refused ${op}: the merchant balance is insufficient (HTTP 402)`));
    case 403:
      return new ZoPayForbiddenError(init(`ZoPay refused ${op} (HTTP 403); check that x-zo-origin and our IP are allow-listed`));
    case 404:
      return new ZoPayNotFoundError(init(`ZoPay found nothing for ${op} (HTTP 404)`));
    case 409:
      return new ZoPayConflictError(init(`ZoPay reported a conflict for ${op} (HTTP 409)`));
    case 429:
      return new ZoPayRateLimitError({
        ...init(`ZoPay rate-limited ${op} (HTTP 429)`),
        retryAfterSeconds: retryAfterSeconds(res, body, context.nowMs ?? Date.now()),
      });
  }
  if (status >= 500) return new ZoPayServerError(init(`ZoPay failed to process ${op} (HTTP ${status})`));
  // 1xx/3xx/other 4xx: not part of ZoPay's documented contract. Treated like a server fault: whether ZoPay
  // acted is unknown.
  return new ZoPayServerError(init(`ZoPay gave an unexpected answer to ${op} (HTTP ${status})`));
}
