import { GraphQLError } from 'graphql';

/**
 * Top-level infrastructure errors with stable `extensions.code`s (design.md §2). Everything else is
 * masked by Yoga as INTERNAL_SERVER_ERROR. Messages and extensions never carry upstream details.
 */

export function rateLimitedError(retryAfterSeconds: number): GraphQLError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new GraphQLError(`Too many requests; retry after ${retryAfter} s.`, {
    extensions: { code: 'RATE_LIMITED', retryAfter },
  });
}

/**
 * `outcomeUnknown`: a payout may exist for the key. `keyUnchecked` says why: the gateway could not read
 * the key's idempotency record (store down or hung), so an earlier attempt with it may have paid, although
 * this request sent nothing. Otherwise ZoPay did not confirm an attempt in time.
 */
export function upstreamUnavailableError(opts: { retrySafe: boolean; retryAfter?: number; outcomeUnknown?: boolean; keyUnchecked?: boolean }): GraphQLError {
  const retry = 'Retry with the same idempotencyKey: it is safe and will not pay twice.';
  // The same code whether ZoPay or the gateway's own store failed (the client's remedy is the same), so
  // the wording blames neither.
  const message = opts.keyUnchecked
    ? `The gateway could not check this idempotencyKey, so a payout may already exist for it. ${retry}`
    : opts.outcomeUnknown
      ? `The outcome of this payout could not be confirmed in time. ${retry}`
      : // Also answers createQuote and reads, which have no idempotencyKey to name.
        'The service is temporarily unavailable. Retry later' + (opts.retrySafe ? '; retrying is safe.' : '.');
  return new GraphQLError(message, {
    extensions: {
      code: 'UPSTREAM_UNAVAILABLE',
      retrySafe: opts.retrySafe,
      ...(opts.outcomeUnknown || opts.keyUnchecked ? { outcomeUnknown: true } : {}),
      ...(opts.retryAfter !== undefined ? { retryAfter: Math.max(1, Math.ceil(opts.retryAfter)) } : {}),
    },
  });
}

/**
 * A request that reached an instance while it shuts down: nothing ran, and its idempotency key (if it was
 * an execute) was not looked at, so an earlier attempt with it may have paid. Like any unchecked key, the
 * answer says the outcome is unknown: a client must not take it for "nothing was paid" and start over
 * with a new key.
 */
export function shuttingDownError(): GraphQLError {
  return new GraphQLError(
    'This instance is shutting down and ran nothing. Retry (another instance answers); for executeDisbursement, retry with the same idempotencyKey: an earlier attempt with it may have paid.',
    { extensions: { code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true, retryAfter: 1 } },
  );
}

export function badUserInputError(message: string, issues: readonly { path: string; message: string }[]): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', issues } });
}

export function unauthenticatedError(): GraphQLError {
  return new GraphQLError('A valid bearer token is required.', { extensions: { code: 'UNAUTHENTICATED' } });
}

export function forbiddenError(): GraphQLError {
  return new GraphQLError('The token lacks the scope this operation needs.', { extensions: { code: 'FORBIDDEN' } });
}
