import type { Payout } from '../zopay/types.js';

/**
 * Shared state of the gateway: one interface per concern, each with an in-memory implementation (one
 * instance, no REDIS_URL) and a Redis one. The same contract tests run against both. Every method may
 * reject with StoreUnavailableError when the backing store cannot be reached; callers map it to a
 * retryable client error and must assume nothing was written.
 */

/** Milliseconds since the epoch. Lock expiry and rate-limit windows read it, so tests can move time. */
export interface Clock {
  now(): number;
}

export type ApplyOutcome = 'created' | 'advanced' | 'unchanged' | 'stale' | 'conflict';

export interface ApplyResult {
  /**
   * created: first snapshot stored. advanced: the status moved forward (statusRank).
   * unchanged: same status; newly known fields may have been merged in, the status did not change.
   * stale: the snapshot is older than what is stored; nothing written.
   * conflict: a different final status than the stored final one; nothing written (alert, reconcile).
   */
  outcome: ApplyOutcome;
  /** The stored payout after the call. */
  current: Payout;
}

/** Last known status per payout, applied monotonically. */
export interface PayoutStatusStore {
  apply(payout: Payout): Promise<ApplyResult>;
  get(payoutId: string): Promise<Payout | undefined>;
  /** Same order as `payoutIds` (a DataLoader batch function can return it as is). */
  getMany(payoutIds: readonly string[]): Promise<(Payout | undefined)[]>;
}

export interface RecordDeliveryInput {
  /** ZoPay's `X-Zo-Delivery-Id`, stable across its retries and replays. */
  deliveryId: string;
  payout: Payout;
  /** How long the delivery id is remembered; must outlive ZoPay's retry schedule (~7 h) and replays. */
  dedupeTtlSeconds: number;
  /**
   * A pub/sub channel on the store's own server (the Redis event bus's channel of this payout): when the
   * delivery advances the payout, the stored payout is published there in the same atomic step, so a
   * webhook costs one round trip and no advance is recorded without its event. A store that cannot
   * publish (memory) ignores it and says so with `published: false`; the caller then publishes itself.
   */
  publishTo?: string;
}

export type RecordDeliveryResult =
  | { duplicate: true }
  /** publishError: why the store's own publish failed (Redis' error text), when it tried and failed. */
  | { duplicate: false; result: ApplyResult; published: boolean; publishError?: string };

/**
 * Webhook deliveries: dedupe and apply in one atomic step. Either both happen or neither does, so a
 * delivery that failed to record (503) is processed exactly once when ZoPay retries it.
 */
export interface WebhookDeliveryStore {
  recordDelivery(input: RecordDeliveryInput): Promise<RecordDeliveryResult>;
  /** Remembers a delivery we only acknowledge (event types we do not apply). */
  recordIgnored(deliveryId: string, ttlSeconds: number): Promise<{ duplicate: boolean }>;
}

/** Who executed a payout through the gateway (design §5). */
export interface OwnerStore {
  /** First writer wins and is never overwritten. Resolves to the owner on record after the call. */
  setOwner(payoutId: string, sub: string): Promise<string>;
  getOwner(payoutId: string): Promise<string | undefined>;
  /** Same order as `payoutIds`. */
  getOwners(payoutIds: readonly string[]): Promise<(string | undefined)[]>;
  /**
   * Payouts first recorded for `sub`, newest first, within the owner TTL. `total` counts all of them.
   * Only payouts whose `setOwner` this caller won are listed.
   */
  listOwned(sub: string, page: { offset: number; limit: number }): Promise<{ ids: string[]; total: number }>;
}

/** What the gateway remembers of a quote it handed out, to check an execute without an upstream call. */
export interface QuoteRecord {
  quoteId: string;
  /** The caller (`sub`) that created it. */
  owner: string;
  recipientMsisdn: string;
  /** ISO-8601. */
  expiresAt: string;
}

export interface QuoteStore {
  put(record: QuoteRecord, ttlSeconds: number): Promise<void>;
  get(quoteId: string): Promise<QuoteRecord | undefined>;
}

export interface IdempotencyBeginInput {
  /** Caller and client key, already combined by the caller. */
  scope: string;
  /** Hash of the request payload; a different one under the same scope is a misuse of the key. */
  fingerprint: string;
  /** Unique per attempt (e.g. instance id + random). Only the lock owner can complete, mark or release. */
  lockOwner: string;
  lockTtlMs: number;
  recordTtlSeconds: number;
  /** Stored with a fresh record; returned again when a later attempt resumes it. */
  upstreamKey?: string;
}

export type IdempotencyBeginResult =
  /** resumed: an expired lock or an `unknown` record was taken over; the upstream may already have it. */
  | { kind: 'acquired'; resumed: boolean; upstreamKey?: string }
  | { kind: 'in_progress'; retryAfterMs: number }
  | { kind: 'mismatch' }
  | { kind: 'completed'; result: string };

export type IdempotencyState = 'locked' | 'unknown' | 'completed';

export interface IdempotencyRecord {
  fingerprint: string;
  state: IdempotencyState;
  /** Set while locked. */
  lockOwner?: string;
  lockExpiresAt?: number;
  upstreamKey?: string;
  /** Set once completed: the business outcome, replayed verbatim. */
  result?: string;
  /** True once the record may have reached the upstream (resumed or marked unknown). */
  uncertain: boolean;
}

export interface IdempotencyLockInput {
  scope: string;
  lockOwner: string;
}

export interface IdempotencyStore {
  begin(input: IdempotencyBeginInput): Promise<IdempotencyBeginResult>;
  /** Stores the outcome. False when `lockOwner` no longer holds the record. */
  complete(input: IdempotencyLockInput & { result: string; recordTtlSeconds: number }): Promise<boolean>;
  /** The upstream outcome is unknown: keep record and fingerprint, drop the lock so a retry resumes. */
  markUnknown(input: IdempotencyLockInput): Promise<boolean>;
  /**
   * Nothing could have reached the upstream: forget the record so a retry proceeds normally. A record
   * that was already uncertain (resumed) is not forgotten but goes back to `unknown`.
   */
  release(input: IdempotencyLockInput): Promise<boolean>;
  get(scope: string): Promise<IdempotencyRecord | undefined>;
}

export interface RateLimitInput {
  key: string;
  /** Requests allowed per window (GCRA: a burst of `limit`, then one every windowMs / limit). */
  limit: number;
  windowMs: number;
  /** Default 1; must not exceed `limit`. */
  cost?: number;
  /**
   * Slots this request must leave free (default 0): it is refused while fewer than `cost + keepFree` are
   * free, and charged `cost` only. Lower-priority requests use it so that they never take the last slots.
   */
  keepFree?: number;
}

export type RateLimitResult = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  take(input: RateLimitInput): Promise<RateLimitResult>;
}

export interface ExecuteBeginInput {
  /**
   * The caller's mutation budget, charged first (but for a `quoteCheck.refuse` of a key with no record,
   * which writes nothing); when refused nothing else is read or written.
   */
  rateLimit: RateLimitInput;
  quoteId: string;
  idempotency: IdempotencyBeginInput;
  /**
   * What the quote must be for a key with no record to be claimed: this caller's, for this recipient,
   * unexpired at `nowMs`. Otherwise nothing is claimed (`quote_refused`): an execute that cannot be sent
   * leaves no trace on its key. A key with a record (replay, in progress, resumable) is not checked here.
   */
  quoteCheck?: {
    owner: string;
    recipientMsisdn: string;
    nowMs: number;
    /** Refuse whatever the quote says (the caller knows why: bad input), and then charge the budget neither. */
    refuse?: boolean;
  };
}

export type ExecuteBeginResult =
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'begun'; quote: QuoteRecord | undefined; begun: IdempotencyBeginResult }
  | { kind: 'quote_refused'; quote: QuoteRecord | undefined };

export interface ExecuteFinishInput {
  /** The payout ZoPay accepted. */
  payout: Payout;
  /** The caller that executed it (first writer wins, see OwnerStore.setOwner). */
  owner: string;
  lock: IdempotencyLockInput;
  /** The outcome the idempotency record replays. */
  result: string;
  recordTtlSeconds: number;
}

export interface ExecuteFinishResult {
  applied: ApplyResult;
  /** The owner on record after the call. */
  owner: string;
  /** False when the lock was no longer held (the outcome was not stored). */
  completed: boolean;
}

/**
 * The two shared-state steps of an execute, each one round trip: the same effects as the separate
 * stores' calls in this order (rate limit, quote read, idempotency begin; status apply, owner,
 * complete), so the separate stores remain the reference. Redis runs each step as one script.
 */
export interface ExecuteStore {
  begin(input: ExecuteBeginInput): Promise<ExecuteBeginResult>;
  finish(input: ExecuteFinishInput): Promise<ExecuteFinishResult>;
}

/** Short exclusive claims shared by every instance (one reconcile read of a payout per interval, say). */
export interface LeaseStore {
  /** Takes `key` for `ttlMs` unless someone holds it: the token to give it back with, or undefined. */
  acquire(key: string, ttlMs: number): Promise<string | undefined>;
  /** Gives the lease back before it expires (only with the holder's token). */
  release(key: string, token: string): Promise<void>;
}

export interface Stores {
  leases: LeaseStore;
  payouts: PayoutStatusStore;
  deliveries: WebhookDeliveryStore;
  owners: OwnerStore;
  quotes: QuoteStore;
  idempotency: IdempotencyStore;
  rateLimiter: RateLimiter;
  execute: ExecuteStore;
}

export interface StoreTtlOptions {
  /** Last known status per payout. Default 30 days. */
  payoutTtlSeconds?: number;
  /** Payout owners. Default 90 days: after that the creator needs payouts:read to see the payout. */
  ownerTtlSeconds?: number;
}

export const STORE_DEFAULTS = {
  payoutTtlSeconds: 30 * 24 * 3600,
  ownerTtlSeconds: 90 * 24 * 3600,
} as const;
