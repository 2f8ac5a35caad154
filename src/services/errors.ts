/**
 * Business outcomes a client is expected to handle. Each is a union member in the schema (implementing
 * `Error` with a stable `code`), so clients branch on `__typename`/`code`, never on the message.
 */

export abstract class BusinessError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class QuoteExpiredError extends BusinessError {
  readonly code = 'QUOTE_EXPIRED';
  constructor() {
    super('The quote has expired; create a new quote.');
  }
}

export class QuoteNotFoundError extends BusinessError {
  readonly code = 'QUOTE_NOT_FOUND';
  constructor() {
    super('No quote with this id exists for this caller.');
  }
}

export class QuoteAlreadyUsedError extends BusinessError {
  readonly code = 'QUOTE_ALREADY_USED';
  constructor() {
    super('This quote has already been used by another disbursement; create a new quote.');
  }
}

export class IdempotencyKeyReusedError extends BusinessError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor() {
    super('This idempotency key was already used with different input; use a new key for a new payout.');
  }
}

export class IdempotencyKeyInProgressError extends BusinessError {
  readonly code = 'IDEMPOTENCY_KEY_IN_PROGRESS';
  constructor(readonly retryAfter: number) {
    super('A request with this idempotency key is still being processed; retry with the same key shortly.');
  }
}

export class InsufficientBalanceError extends BusinessError {
  readonly code = 'INSUFFICIENT_BALANCE';
  constructor() {
    super('The merchant wallet cannot cover the amount plus fees.');
  }
}

export class InvalidRecipientError extends BusinessError {
  readonly code = 'INVALID_RECIPIENT';
  constructor(message = 'The recipient number cannot receive payouts on this gateway.') {
    super(message);
  }
}

/** ZoPay refused the payout for a reason the gateway has no type for (risk checks, limits…): nothing was paid. */
export class PayoutRejectedError extends BusinessError {
  readonly code = 'PAYOUT_REJECTED';
  constructor(message = 'ZoPay rejected this payout; nothing was paid. Contact support before trying again.') {
    super(message);
  }
}

export class QuoteRejectedError extends BusinessError {
  readonly code = 'QUOTE_REJECTED';
  constructor(message = 'ZoPay rejected the quote request (unsupported amount, currency or gateway).') {
    super(message);
  }
}
