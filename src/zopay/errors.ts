/**
 * ZoPay client errors: one base class, one subclass per way a call can end, stable `code`s.
 * Match on `code` or class, never on `message`. Messages never carry secrets, MSISDNs or upstream bodies.
 */

export const ZOPAY_ERROR_CODES = {
  AUTHENTICATION: 'ZOPAY_AUTHENTICATION',
  FORBIDDEN: 'ZOPAY_FORBIDDEN',
  INVALID_REQUEST: 'ZOPAY_INVALID_REQUEST',
  NOT_FOUND: 'ZOPAY_NOT_FOUND',
  CONFLICT: 'ZOPAY_CONFLICT',
  INSUFFICIENT_BALANCE: 'ZOPAY_INSUFFICIENT_BALANCE',
  RATE_LIMITED: 'ZOPAY_RATE_LIMITED',
  SERVER: 'ZOPAY_SERVER_ERROR',
  CONNECTION: 'ZOPAY_CONNECTION_ERROR',
  TIMEOUT: 'ZOPAY_TIMEOUT',
  CIRCUIT_OPEN: 'ZOPAY_CIRCUIT_OPEN',
  BAD_RESPONSE: 'ZOPAY_BAD_RESPONSE',
} as const;
export type ZoPayErrorCode = (typeof ZOPAY_ERROR_CODES)[keyof typeof ZOPAY_ERROR_CODES];

export interface ZoPayErrorInit {
  message: string;
  /** HTTP status, when ZoPay answered. */
  httpStatus?: number;
  /** ZoPay's own machine code (`code ?? error` in its body), for logs and mapping only. */
  upstreamCode?: string;
  /** ZoPay's `correlation_id` or request id, when it sent one. */
  correlationId?: string;
  cause?: unknown;
}

export abstract class ZoPayError extends Error {
  abstract readonly code: ZoPayErrorCode;
  readonly httpStatus: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly correlationId: string | undefined;

  constructor(init: ZoPayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.httpStatus = init.httpStatus;
    this.upstreamCode = init.upstreamCode;
    this.correlationId = init.correlationId;
  }

  /**
   * Whether ZoPay may have acted on the request (the outcome is unknown). False for answers that prove
   * nothing happened (4xx) or failures before anything was sent.
   */
  get mayHaveReachedUpstream(): boolean {
    return false;
  }
}

/** 401: bad key, signature, timestamp or nonce. Never retried (a configuration or clock problem). */
export class ZoPayAuthenticationError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.AUTHENTICATION;
}

/** 403: origin or IP not allow-listed. */
export class ZoPayForbiddenError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.FORBIDDEN;
}

/** 400: invalid parameters, expired quote, invalid MSISDN… `upstreamCode` tells which. */
export class ZoPayInvalidRequestError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.INVALID_REQUEST;
  readonly fieldErrors: Readonly<Record<string, readonly string[]>>;
  constructor(init: ZoPayErrorInit & { fieldErrors?: Record<string, string[]> }) {
    super(init);
    this.fieldErrors = init.fieldErrors ?? {};
  }
}

export class ZoPayNotFoundError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.NOT_FOUND;
}

/** 409: idempotency key reused with another body, or quote already used by another key. */
export class ZoPayConflictError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.CONFLICT;
}

/** 402: the merchant wallet cannot cover amount + fees. */
export class ZoPayInsufficientBalanceError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.INSUFFICIENT_BALANCE;
}

/** 429: `retryAfterSeconds` from the `retry_after` header, else `Retry-After`, else undefined. */
export class ZoPayRateLimitError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.RATE_LIMITED;
  readonly retryAfterSeconds: number | undefined;
  constructor(init: ZoPayErrorInit & { retryAfterSeconds?: number }) {
    super(init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 5xx: ZoPay received the request; whether it acted is unknown. */
export class ZoPayServerError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.SERVER;
  override get mayHaveReachedUpstream(): boolean {
    return true;
  }
}

/** The connection failed. `requestSent` is false only when we know no byte of the request left us. */
export class ZoPayConnectionError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.CONNECTION;
  readonly requestSent: boolean;
  constructor(init: ZoPayErrorInit & { requestSent: boolean }) {
    super(init);
    this.requestSent = init.requestSent;
  }
  override get mayHaveReachedUpstream(): boolean {
    return this.requestSent;
  }
}

/** No (complete) answer in time. Connect timeouts mean nothing was sent; header/body timeouts are unknowns. */
export class ZoPayTimeoutError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.TIMEOUT;
  readonly requestSent: boolean;
  constructor(init: ZoPayErrorInit & { requestSent: boolean }) {
    super(init);
    this.requestSent = init.requestSent;
  }
  override get mayHaveReachedUpstream(): boolean {
    return this.requestSent;
  }
}

/** The circuit breaker is open: nothing was sent. */
export class ZoPayCircuitOpenError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.CIRCUIT_OPEN;
  readonly retryAfterSeconds: number;
  constructor(init: ZoPayErrorInit & { retryAfterSeconds: number }) {
    super(init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** A 2xx whose body did not parse as the documented shape. ZoPay acted; we could not read the result. */
export class ZoPayBadResponseError extends ZoPayError {
  readonly code = ZOPAY_ERROR_CODES.BAD_RESPONSE;
  override get mayHaveReachedUpstream(): boolean {
    return true;
  }
}
