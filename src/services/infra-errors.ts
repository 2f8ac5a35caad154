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

export function upstreamUnavailableError(opts: { retrySafe: boolean; retryAfter?: number; outcomeUnknown?: boolean }): GraphQLError {
  const message = opts.outcomeUnknown
    ? 'The payment provider did not confirm the outcome in time. Retry with the same idempotencyKey: it is safe and will not pay twice.'
    : 'The payment provider is unavailable. Retry later' + (opts.retrySafe ? ' (retrying with the same idempotencyKey is safe).' : '.');
  return new GraphQLError(message, {
    extensions: {
      code: 'UPSTREAM_UNAVAILABLE',
      retrySafe: opts.retrySafe,
      ...(opts.outcomeUnknown ? { outcomeUnknown: true } : {}),
      ...(opts.retryAfter !== undefined ? { retryAfter: Math.max(1, Math.ceil(opts.retryAfter)) } : {}),
    },
  });
}

/**
 * An execute whose idempotency record could not be read (the store is down or did not answer): this
 * request sent nothing, but an earlier attempt with the same key may have paid, so the outcome of the key
 * is unknown. A client must not take this for "nothing happened" and start over with a new key.
 */
export function keyUncheckedError(): GraphQLError {
  return new GraphQLError(
    'The gateway could not check this idempotencyKey, so a payout may already exist for it. Retry with the same idempotencyKey: it is safe and will not pay twice.',
    { extensions: { code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true } },
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
