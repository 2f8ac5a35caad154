import { quotePassesCheck } from './quote-codec.js';
import type { ExecuteStore, IdempotencyStore, OwnerStore, PayoutStatusStore, QuoteStore, RateLimiter } from './types.js';

/**
 * ExecuteStore from the separate stores, call by call (the in-memory flavour: one process, nothing to
 * save). The Redis flavour runs the same steps as one script each (redis/execute.ts).
 */
export function composeExecuteStore(stores: {
  rateLimiter: RateLimiter;
  quotes: QuoteStore;
  idempotency: IdempotencyStore;
  status: PayoutStatusStore;
  owners: OwnerStore;
}): ExecuteStore {
  return {
    async begin({ rateLimit, quoteId, idempotency, quoteCheck }) {
      // A request refused whatever its quote says is bad input: a key with no record is refused before the
      // budget is charged, so it writes nothing (as the Redis script).
      if (quoteCheck?.refuse === true && (await stores.idempotency.get(idempotency.scope)) === undefined) return { kind: 'quote_refused', quote: undefined };
      const limit = await stores.rateLimiter.take(rateLimit);
      if (!limit.allowed) return { kind: 'rate_limited', retryAfterMs: limit.retryAfterMs };
      const quote = await stores.quotes.get(quoteId);
      if (quoteCheck && (quoteCheck.refuse === true || !quotePassesCheck(quote, quoteCheck)) && (await stores.idempotency.get(idempotency.scope)) === undefined) {
        return { kind: 'quote_refused', quote };
      }
      return { kind: 'begun', quote, begun: await stores.idempotency.begin(idempotency) };
    },
    async finish({ payout, owner, lock, result, recordTtlSeconds }) {
      const applied = await stores.status.apply(payout);
      const recorded = await stores.owners.setOwner(payout.id, owner);
      const completed = await stores.idempotency.complete({ ...lock, result, recordTtlSeconds });
      return { applied, owner: recorded, completed };
    },
  };
}
