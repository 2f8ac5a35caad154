/**
 * Every key lives under the configured prefix. Keys about one payout share the hash tag `{payoutId}`, so
 * the delivery-and-apply script touches a single Redis Cluster slot.
 */
export function redisKeys(prefix: string) {
  return {
    status: (payoutId: string) => `${prefix}payout:{${payoutId}}:status`,
    owner: (payoutId: string) => `${prefix}payout:{${payoutId}}:owner`,
    delivery: (payoutId: string, deliveryId: string) => `${prefix}payout:{${payoutId}}:delivery:${deliveryId}`,
    ownerIndex: (sub: string) => `${prefix}owner-index:${sub}`,
    quote: (quoteId: string) => `${prefix}quote:${quoteId}`,
    ignoredDelivery: (deliveryId: string) => `${prefix}webhook-ignored:${deliveryId}`,
    idempotency: (scope: string) => `${prefix}idem:${scope}`,
    rateLimit: (key: string) => `${prefix}rl:${key}`,
    lease: (key: string) => `${prefix}lease:${key}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
