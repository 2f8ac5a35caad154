/**
 * What a route decides to answer, before the fault layer decides whether and how it is sent. Errors use
 * the one envelope of zopay-api.md §9 #13: `{error, message, code}`, `error` derived from the HTTP status,
 * plus `errors: {field: [msg]}` on validation failures.
 */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Synthetic codes (ZoPay publishes no catalogue); only AUTH_ERROR and INVALID_MSISDN are ZoPay's own. */
export const ERROR_CODES = {
  AUTH_ERROR: 'AUTH_ERROR',
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  INVALID_MSISDN: 'INVALID_MSISDN',
  QUOTE_NOT_FOUND: 'QUOTE_NOT_FOUND',
  QUOTE_EXPIRED: 'QUOTE_EXPIRED',
  QUOTE_ALREADY_USED: 'QUOTE_ALREADY_USED',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Control API only: settle on a payout whose status is already final. */
  PAYOUT_ALREADY_FINAL: 'PAYOUT_ALREADY_FINAL',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorReply(
  status: number,
  code: ErrorCode,
  message: string,
  extra?: { errors?: Record<string, string[]>; headers?: Record<string, string> },
): Reply {
  const body: Record<string, unknown> = { error: REASONS[status] ?? 'Error', message, code };
  if (extra?.errors) body['errors'] = extra.errors;
  return extra?.headers ? { status, body, headers: extra.headers } : { status, body };
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** §9 #22: both the documented `retry_after` and the standard `Retry-After`, same body as a real limit. */
export function rateLimitedReply(retryAfterSeconds: number): Reply {
  const seconds = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return errorReply(429, ERROR_CODES.RATE_LIMITED, 'Rate limit exceeded', {
    headers: { retry_after: seconds, 'retry-after': seconds },
  });
}

/** Field errors from zod-style issues, keyed by the dotted path. */
export function validationReply(errors: Record<string, string[]>): Reply {
  const first = Object.entries(errors)[0];
  const message = first ? `${first[0]}: ${first[1][0] ?? 'invalid'}` : 'Invalid request';
  return errorReply(400, ERROR_CODES.VALIDATION_ERROR, message, { errors });
}
