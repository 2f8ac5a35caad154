import type { ExecuteStore, IdempotencyStore, LeaseStore, OwnerStore, PayoutStatusStore, QuoteStore, RateLimiter } from '../stores/types.js';
import type { Logger } from '../lib/logger.js';
import type { ZoPayApi } from '../zopay/types.js';
import type { EventBus } from '../events/types.js';

/** What the payout services need, passed in (main.ts and tests build real ones). */
export interface PayoutServiceDeps {
  zopay: ZoPayApi;
  stores: {
    status: PayoutStatusStore;
    owners: OwnerStore;
    idempotency: IdempotencyStore;
    quotes: QuoteStore;
    rateLimiter: RateLimiter;
    /** The reconciler's claims (one read of a payout per interval across instances). */
    leases: LeaseStore;
    /** An execute's shared-state steps, one round trip each. */
    execute: ExecuteStore;
  };
  bus: EventBus;
  /** This instance's time: deadlines, waits, and what the ZoPay client signs with. */
  clock: { now(): number };
  /**
   * The time shared state is stamped with (Redis's when shared; see lib/redis-clock.ts): used where the
   * service compares a time with that state, such as a quote's expiry in the execute's begin step.
   * Default: `clock`.
   */
  sharedClock?: { now(): number };
  /**
   * The GraphQL operation this service works for (see PayoutService.forRequest): its upstream work
   * shares one deadline, counted from its first upstream step. Unset (reconciler, webhooks): each call
   * has its own.
   */
  operation?: { startedAt?: number };
  log: Logger;
  settings: {
    /** Deadline of one GraphQL operation's upstream work, retries included. */
    operationDeadlineMs: number;
    idempotencyTtlSeconds: number;
    /** How long an execute holds its key before another instance may take over (crash recovery). */
    idempotencyLockTtlMs: number;
    /** How long a concurrent duplicate waits for the first request's result before IdempotencyKeyInProgressError. */
    duplicateWaitMs: number;
    /** How often each watched, non-final payout is read from ZoPay (lost-webhook safety net). */
    reconcileIntervalMs: number;
    /** Mutations per caller per minute, across instances. */
    mutationRateLimitPerMinute: number;
    /** Live subscriptions per caller on one instance. */
    subscriptionsPerCaller: number;
    /**
     * Subscriptions being set up at once on this instance (authorization, watch, snapshot read); the
     * rest queue. A reconnect storm then cannot pile up so much work that store replies wait behind it
     * past the Redis command timeout (which would turn existing payouts into upstream reads).
     */
    subscribeSetupsInFlight?: number;
    /** Country calling codes a recipient's number may start with (no "+"); null or unset: any. */
    recipientCountryCodes?: readonly string[] | null;
  };
  /** Unique per process: the owner of idempotency locks. */
  instanceId: string;
  /** A ZoPay read reported another final status than the stored one (counted for alerting). */
  onFinalConflict?: (source: 'read') => void;
}
