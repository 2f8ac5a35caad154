import type { GraphQLError } from 'graphql';
import {
  ZoPayCircuitOpenError,
  ZoPayConflictError,
  ZoPayError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayRateLimitError,
} from '../zopay/errors.js';
import { BudgetExhaustedError, StoreUnavailableError } from '../stores/errors.js';
import { EventBusUnavailableError } from '../events/errors.js';
import type {
  BusinessError} from './errors.js';
import {
  IdempotencyKeyReusedError,
  InsufficientBalanceError,
  InvalidRecipientError,
  PayoutRejectedError,
  QuoteAlreadyUsedError,
  QuoteExpiredError,
  QuoteNotFoundError,
  QuoteRejectedError,
} from './errors.js';
import { rateLimitedError, upstreamUnavailableError } from './infra-errors.js';

/**
 * ZoPay's answers that are business outcomes. ZoPay publishes no code catalogue (zopay-api.md §6.3),
 * so the HTTP status decides and its `code` only refines within a status.
 */
export function businessErrorFrom(err: unknown, operation: 'quote' | 'execute'): BusinessError | undefined {
  if (err instanceof ZoPayInsufficientBalanceError) {
    // ZoPay documents its 402 for executes; a quote refused with one is still a refusal to quote (the
    // quote's result type has no balance error).
    if (operation === 'quote') return new QuoteRejectedError('ZoPay refused to quote: the merchant balance is insufficient or the payment was declined.');
    return new InsufficientBalanceError();
  }
  if (err instanceof ZoPayConflictError) {
    if (operation === 'execute' && err.upstreamCode === 'QUOTE_ALREADY_USED') return new QuoteAlreadyUsedError();
    return operation === 'execute' ? new IdempotencyKeyReusedError() : undefined;
  }
  if (err instanceof ZoPayInvalidRequestError) {
    const code = err.upstreamCode ?? '';
    if (code === 'INVALID_MSISDN' || 'recipient.msisdn' in err.fieldErrors || 'msisdn' in err.fieldErrors) {
      return new InvalidRecipientError();
    }
    if (operation === 'quote') return new QuoteRejectedError();
    if (code === 'QUOTE_EXPIRED') return new QuoteExpiredError();
    if (code === 'QUOTE_NOT_FOUND') return new QuoteNotFoundError();
    // ZoPay's validation error at execute is about the recipient unless its field errors name another
    // field (the execute body has only the quote, the key and the recipient).
    const otherFields = Object.keys(err.fieldErrors).filter((f) => !f.startsWith('recipient'));
    if (code === 'VALIDATION_ERROR' && otherFields.length === 0) return new InvalidRecipientError('The recipient does not match the quote recipient.');
    // No code the gateway knows (ZoPay publishes no catalogue): say it was refused, not why it guesses.
    return new PayoutRejectedError();
  }
  return undefined;
}

/**
 * Infrastructure failures → top-level errors with stable codes; undefined for anything else (masked).
 * ZoPay refusing the gateway itself (401 credentials, signature, clock or nonce; 403 origin) is an
 * operator's problem, never the client's: to the client the service is unavailable, and since ZoPay did
 * nothing, a retry with the same key is safe.
 */
export function infrastructureErrorFrom(err: unknown, opts: { outcomeUnknown?: boolean } = {}): GraphQLError | undefined {
  if (err instanceof ZoPayRateLimitError) return rateLimitedError(err.retryAfterSeconds ?? 1);
  if (err instanceof BudgetExhaustedError) return rateLimitedError(err.retryAfterSeconds);
  if (err instanceof ZoPayCircuitOpenError) return upstreamUnavailableError({ retrySafe: true, retryAfter: err.retryAfterSeconds });
  if (err instanceof StoreUnavailableError || err instanceof EventBusUnavailableError) return upstreamUnavailableError({ retrySafe: true });
  if (err instanceof ZoPayError) return upstreamUnavailableError({ retrySafe: true, outcomeUnknown: opts.outcomeUnknown ?? false });
  return undefined;
}
