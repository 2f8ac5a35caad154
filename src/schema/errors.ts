import { builder } from './builder.js';
import type {
  BusinessError} from '../services/errors.js';
import {
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  InsufficientBalanceError,
  InvalidRecipientError,
  QuoteAlreadyUsedError,
  QuoteExpiredError,
  QuoteNotFoundError,
  QuoteRejectedError,
  PayoutRejectedError,
} from '../services/errors.js';

export const ErrorInterface = builder.interfaceRef<BusinessError>('Error').implement({
  description: 'An expected, typed outcome that the client must handle. Branch on `__typename` or `code`.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Stable machine-readable code.' }),
    message: t.exposeString('message', { description: 'Human-readable explanation; may change.' }),
  }),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos' class-ref signature
type ErrorClass<T> = new (...args: any[]) => T;

function errorType(cls: ErrorClass<BusinessError>, name: string, description: string) {
  return builder.objectType(cls, { name, description, interfaces: [ErrorInterface], isTypeOf: (v) => v instanceof cls, fields: () => ({}) });
}

export const QuoteExpiredErrorType = errorType(QuoteExpiredError, 'QuoteExpiredError', 'The quote is past `expiresAt`. Create a new quote.');
export const QuoteNotFoundErrorType = errorType(QuoteNotFoundError, 'QuoteNotFoundError', 'No quote with this id exists for the caller.');
export const QuoteAlreadyUsedErrorType = errorType(
  QuoteAlreadyUsedError,
  'QuoteAlreadyUsedError',
  'The quote was already used by a disbursement with another idempotency key. Quotes are single-use.',
);
export const IdempotencyKeyReusedErrorType = errorType(
  IdempotencyKeyReusedError,
  'IdempotencyKeyReusedError',
  'The idempotency key was used before with different input. Nothing was sent to ZoPay.',
);
export const InsufficientBalanceErrorType = errorType(
  InsufficientBalanceError,
  'InsufficientBalanceError',
  'The merchant wallet cannot cover the amount plus fees. Nothing was paid.',
);
export const InvalidRecipientErrorType = errorType(
  InvalidRecipientError,
  'InvalidRecipientError',
  'The recipient cannot receive payouts on this gateway, or differs from the quote recipient.',
);
export const QuoteRejectedErrorType = errorType(
  QuoteRejectedError,
  'QuoteRejectedError',
  'ZoPay refused to quote (unsupported amount, currency or gateway).',
);

export const PayoutRejectedErrorType = errorType(
  PayoutRejectedError,
  'PayoutRejectedError',
  'ZoPay refused the payout for another reason than the types here give (risk checks, limits…). Nothing was paid; the idempotency key replays this answer.',
);

builder.objectType(IdempotencyKeyInProgressError, {
  name: 'IdempotencyKeyInProgressError',
  description: 'Another request with the same idempotency key is still running. Retry with the same key after `retryAfter` seconds.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof IdempotencyKeyInProgressError,
  fields: (t) => ({
    retryAfter: t.exposeInt('retryAfter', { description: 'Seconds to wait before retrying.' }),
  }),
});
