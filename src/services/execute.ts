import { hash } from 'node:crypto';
import type { Viewer } from '../auth/viewer.js';
import { statusRank, type Payout } from '../zopay/types.js';
import {
  BusinessError,
  IdempotencyKeyInProgressError,
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
import { StoreUnavailableError } from '../stores/errors.js';
import type { PayoutServiceDeps } from './ports.js';
import type { IdempotencyBeginInput, IdempotencyBeginResult, QuoteRecord, RateLimitInput } from '../stores/types.js';
import { errSummary, operationDeadline, withStored } from './payouts.js';

export interface ExecuteInput {
  quoteId: string;
  idempotencyKey: string;
  /** Normalised E.164. */
  recipientMsisdn: string;
}

/** What an idempotency record replays: the payout, or the business error, exactly as first answered. */
type StoredOutcome = { v: 1; kind: 'payout'; payout: Payout } | { v: 1; kind: 'error'; code: string; message?: string };

const BUSINESS_ERRORS: Record<string, () => BusinessError> = {
  QUOTE_EXPIRED: () => new QuoteExpiredError(),
  QUOTE_NOT_FOUND: () => new QuoteNotFoundError(),
  QUOTE_ALREADY_USED: () => new QuoteAlreadyUsedError(),
  IDEMPOTENCY_KEY_REUSED: () => new IdempotencyKeyReusedError(),
  INSUFFICIENT_BALANCE: () => new InsufficientBalanceError(),
  INVALID_RECIPIENT: () => new InvalidRecipientError(),
  QUOTE_REJECTED: () => new QuoteRejectedError(),
  PAYOUT_REJECTED: () => new PayoutRejectedError(),
};

/** Idempotency scope: (caller, client key). Hashed so that no raw client text lands in Redis keys. */
export function idempotencyScope(sub: string, key: string): string {
  return hash('sha256', `scope\0${sub}\0${key}`, 'base64url');
}

/**
 * The ZoPay `idempotency_key`: derived from (caller, client key) alone, so every attempt, every
 * instance and every retry after a lost Redis record sends the same key and ZoPay refuses a second
 * payout. 3 + 43 URL-safe characters: within any plausible length or alphabet limit.
 */
export function upstreamIdempotencyKey(sub: string, key: string): string {
  return 'gw_' + hash('sha256', `zopay-idem\0${sub}\0${key}`, 'base64url');
}

/** Now, on the time the stores stamp shared state with: a quote's expiry is judged on it, here and in the begin script. */
function sharedNow(deps: Pick<PayoutServiceDeps, 'clock' | 'sharedClock'>): number {
  return (deps.sharedClock ?? deps.clock).now();
}

/** Fingerprint of the normalised input: the same key with another input is a reuse error. */
export function inputFingerprint(input: ExecuteInput): string {
  return hash('sha256', JSON.stringify([input.quoteId, input.recipientMsisdn]), 'base64url');
}

// Concurrent duplicates inside one process share one promise: one store round trip, one upstream call.
const inFlight = new Map<string, Promise<Payout>>();

export interface ExecuteOptions {
  /** The caller's mutation budget: charged in the same round trip as the quote read and the key claim. */
  rateLimit: RateLimitInput;
  translate: (err: unknown) => Error;
  /** Told when this request's answer is the key's earlier (or concurrent) one: it did no work of its own. */
  onReplay?: () => void;
  /**
   * Why a new payment to this recipient is refused (a country the gateway does not pay to). It stops
   * only a key with no record: a replay or a resume of an earlier attempt, which may have paid, goes on.
   */
  recipientRefusal?: Error;
}

export function executeDisbursement(deps: PayoutServiceDeps, viewer: Viewer, input: ExecuteInput, opts: ExecuteOptions): Promise<Payout> {
  const scope = idempotencyScope(viewer.sub, input.idempotencyKey);
  const fingerprint = inputFingerprint(input);
  const flightKey = `${deps.instanceId}\0${scope}\0${fingerprint}`;
  const existing = inFlight.get(flightKey);
  if (existing) {
    opts.onReplay?.();
    return existing;
  }
  const run = runExecute(deps, viewer, input, scope, fingerprint, opts).finally(() => inFlight.delete(flightKey));
  inFlight.set(flightKey, run);
  return run;
}

async function runExecute(deps: PayoutServiceDeps, viewer: Viewer, input: ExecuteInput, scope: string, fingerprint: string, opts: ExecuteOptions): Promise<Payout> {
  const { rateLimit, translate, onReplay, recipientRefusal } = opts;
  const { stores, settings, clock } = deps;
  // One deadline for the whole execute, a wait for a concurrent duplicate included (design §6.4). The
  // wait ends while half the deadline is left: a key that frees up during it (its holder gave up, or
  // crashed and its lock expired) is taken with time for ZoPay to answer, not sent with a few hundred
  // ms left and turned into one more unknown outcome. Past that point the answer is "in progress".
  const deadline = operationDeadline(deps);
  const waitUntil = Math.min(clock.now() + settings.duplicateWaitMs, deadline - settings.operationDeadlineMs / 2);
  const lockOwner = `${deps.instanceId}:${Math.random().toString(36).slice(2)}`;
  const claim: IdempotencyBeginInput = { scope, fingerprint, lockOwner, lockTtlMs: settings.idempotencyLockTtlMs, recordTtlSeconds: settings.idempotencyTtlSeconds };

  // First pass: rate limit, quote read and key claim in one round trip; a refused rate limit claims
  // nothing. Waiting for a concurrent duplicate only re-claims the key (the call was charged once).
  // A store that cannot answer leaves the key's state unknown: an earlier attempt may have paid.
  const unchecked = (err: unknown): never => {
    if (!(err instanceof StoreUnavailableError)) throw translate(err);
    // A hung Redis still runs the claim once it resumes (it is on the socket). Our release goes on the
    // same connection right behind it, so the key is not left locked (for the lock's whole TTL, every
    // retry waiting and then told "in progress") by a request that has already answered. It frees only
    // this attempt's own lock, which sent nothing upstream.
    void stores.idempotency.release({ scope, lockOwner }).catch(() => undefined);
    throw upstreamUnavailableError({ retrySafe: true, keyUnchecked: true });
  };
  // A key with no record is claimed only for a quote that can be executed (attack case T16: an unknown,
  // foreign or expired quote claims nothing and sends nothing).
  const checkedAt = sharedNow(deps);
  const quoteCheck = { owner: viewer.sub, recipientMsisdn: input.recipientMsisdn, nowMs: checkedAt, ...(recipientRefusal ? { refuse: true } : {}) };
  const first = await stores.execute.begin({ rateLimit, quoteId: input.quoteId, idempotency: claim, quoteCheck }).catch(unchecked);
  if (first.kind === 'rate_limited') throw rateLimitedError(first.retryAfterMs / 1000);
  let begun: IdempotencyBeginResult;
  if (first.kind === 'quote_refused') {
    // The store applied the rules of localRejection (below), which says which error it is. Should the
    // two ever disagree, claim the key as before and let the usual path decide.
    if (recipientRefusal) throw recipientRefusal;
    const refusal = localRejection(first.quote, viewer, input, checkedAt, false);
    if (refusal) throw refusal;
    begun = await stores.idempotency.begin(claim).catch(unchecked);
  } else {
    begun = first.begun;
  }
  for (;;) {
    switch (begun.kind) {
      case 'completed': {
        onReplay?.();
        const payout = replay(begun.result);
        // First writer wins, so this is a no-op unless the original owner write was lost (a record
        // written by an older gateway, or a store restored from an inconsistent backup).
        const [, known] = await Promise.all([
          stores.owners.setOwner(payout.id, viewer.sub).catch(() => undefined),
          stores.status.get(payout.id).catch(() => undefined),
        ]);
        // The same payout, as the gateway knows it now: a retry after the payout finished must not
        // answer the PROCESSING it was accepted with (ZoPay's own replay carries the current status).
        return known && statusRank(known.status) >= statusRank(payout.status) ? withStored(payout, known) : payout;
      }
      case 'mismatch':
        throw new IdempotencyKeyReusedError();
      case 'in_progress': {
        const now = clock.now();
        if (now >= waitUntil) throw new IdempotencyKeyInProgressError(Math.max(1, Math.ceil(begun.retryAfterMs / 1000)));
        await sleep(Math.min(100, waitUntil - now));
        begun = await stores.idempotency.begin(claim).catch(unchecked);
        continue;
      }
      case 'acquired':
        // The quote read with the first pass is current enough: a quote record never changes once
        // written, and an execute that waited for a duplicate finds the key completed or resumed.
        return acquiredExecute(deps, viewer, input, scope, lockOwner, begun.resumed, translate, first.quote, deadline, recipientRefusal);
    }
  }
}

async function acquiredExecute(
  deps: PayoutServiceDeps,
  viewer: Viewer,
  input: ExecuteInput,
  scope: string,
  lockOwner: string,
  resumed: boolean,
  translate: (err: unknown) => Error,
  quote: QuoteRecord | undefined,
  deadline: number,
  recipientRefusal: Error | undefined,
): Promise<Payout> {
  const { stores, settings, log } = deps;
  /** Whether the outcome is now the key's: false when the write failed or this attempt no longer holds the lock. */
  const complete = (outcome: StoredOutcome): Promise<boolean> =>
    stores.idempotency.complete({ scope, lockOwner, result: JSON.stringify(outcome), recordTtlSeconds: settings.idempotencyTtlSeconds }).catch((err: unknown) => {
      log.warn({ err: errSummary(err) }, 'could not store the outcome of an execute');
      return false;
    });

  // Checks that need no upstream call: the quote must be this caller's, unexpired, for this recipient.
  // A resumed attempt follows one that may have reached ZoPay: only ZoPay knows whether it paid (its
  // replay of the same key answers), so a quote that expired since, or whose record is gone, must not
  // hide a payout that exists. Whose quote it is and for whom never change, though, and the earlier
  // attempt had the same caller, quote and recipient (the key's fingerprint): if these checks fail now
  // they failed then, and nothing was sent. They run either way, or a claim left locked (a crash, a lost
  // Redis reply) would let a caller pay out someone else's quote by retrying after the lock expired.
  // A fresh claim (nothing was ever sent with this key) to a country the gateway does not pay is a new
  // payment, refused like in the begin step: reached here after waiting for a duplicate that gave the
  // key back unsent (the begin step's check ran while the key had a record).
  const local = (!resumed && recipientRefusal) || localRejection(quote, viewer, input, sharedNow(deps), resumed);
  if (local) {
    // Nothing was sent: release rather than store, so a corrected retry is not pinned to this answer.
    await stores.idempotency.release({ scope, lockOwner }).catch(() => undefined);
    throw local;
  }

  let payout: Payout;
  try {
    payout = await deps.zopay.executeDisbursement(
      { quoteId: input.quoteId, idempotencyKey: upstreamIdempotencyKey(viewer.sub, input.idempotencyKey), recipientMsisdn: input.recipientMsisdn },
      { deadline },
    );
  } catch (err) {
    const mapped = translate(err);
    // A resumed attempt follows one that may have reached ZoPay, and ZoPay may check the quote, the
    // balance or the key before it replays a payout it made (zopay-api.md §8 #8: its docs say both
    // "replays" and "409 on a duplicate key"; §9 #9 assumes a replay, in no stated order): a refusal then says
    // nothing sure about the first attempt. Answering "quote used", "key reused" or "nothing was paid"
    // could start a second payment, so a resumed attempt's refusal keeps the outcome unknown (below).
    if (!resumed && mapped instanceof BusinessError) {
      if (mapped instanceof IdempotencyKeyReusedError) {
        // ZoPay already holds a payout for this key, made with other input: the gateway's record of the
        // key is gone (Redis lost its data). That payout, not this answer, is the key's outcome: store
        // nothing, so a retry of the original input is never told the key was reused (and to start over).
        await stores.idempotency.release({ scope, lockOwner }).catch(() => undefined);
        throw mapped;
      }
      // ZoPay answered the first attempt: a definite business outcome, stored and replayed for this key.
      // It is the answer only once it is stored. A key whose record still says "locked" (the write
      // failed, or a stall outlived the lock and another attempt took the key) is resumed by a retry,
      // and that retry may pay (the balance was topped up since, say): a caller told "insufficient
      // balance" would by then have paid again with a new key (as the README tells it to). Until the
      // refusal is the key's recorded outcome, the key's outcome is unknown.
      if (!(await complete({ v: 1, kind: 'error', code: mapped.code, message: mapped.message }))) {
        log.warn({ code: mapped.code }, 'ZoPay refused an execute but its key does not record it; client told to retry with the same key');
        throw upstreamUnavailableError({ retrySafe: true, outcomeUnknown: true });
      }
      throw mapped;
    }
    // A resumed attempt is uncertain whatever this try says: an earlier one may have reached ZoPay.
    const mayHaveReached = resumed || (err as { mayHaveReachedUpstream?: boolean }).mayHaveReachedUpstream === true;
    if (mayHaveReached) {
      // Unknown outcome: never FAILED. Keep the record so the retry resumes with the same upstream key.
      await stores.idempotency.markUnknown({ scope, lockOwner }).catch(() => undefined);
      log.warn({ err: errSummary(err) }, 'execute outcome unknown; client told to retry with the same key');
      throw upstreamUnavailableError({ retrySafe: true, outcomeUnknown: true });
    }
    await stores.idempotency.release({ scope, lockOwner }).catch(() => undefined);
    throw mapped;
  }

  // ZoPay accepted the payout. Its status, its owner (so the client can read and subscribe) and the
  // outcome the key replays are recorded in one atomic step before answering.
  try {
    const finished = await stores.execute.finish({
      payout,
      owner: viewer.sub,
      lock: { scope, lockOwner },
      result: JSON.stringify({ v: 1, kind: 'payout', payout } satisfies StoredOutcome),
      recordTtlSeconds: settings.idempotencyTtlSeconds,
    });
    if (!finished.completed) log.warn({ payoutId: payout.id }, 'idempotency lock lost before the outcome was stored; a retry resumes and ZoPay replays');
    log.info({ payoutId: payout.id, status: payout.status, correlationId: payout.correlationId }, 'payout accepted by ZoPay');
  } catch (err) {
    // The payout exists at ZoPay. A retry with the same key resumes and ZoPay replays the same payout.
    await stores.idempotency.markUnknown({ scope, lockOwner }).catch(() => undefined);
    log.error({ err: errSummary(err), payoutId: payout.id }, 'payout accepted but not recorded');
    throw upstreamUnavailableError({ retrySafe: true, outcomeUnknown: true });
  }
  return payout;
}

/**
 * Why an execute can be refused without asking ZoPay (nothing is sent in that case). For a resumed
 * attempt only what cannot have changed since the earlier attempt counts: a record that is gone (expired,
 * or lost with Redis's data) or a quote that expired since says nothing about what that attempt did.
 */
function localRejection(quote: QuoteRecord | undefined, viewer: Viewer, input: ExecuteInput, now: number, resumed: boolean): BusinessError | undefined {
  if (!quote) return resumed ? undefined : new QuoteNotFoundError();
  if (quote.owner !== viewer.sub) return new QuoteNotFoundError();
  if (!resumed && Date.parse(quote.expiresAt) <= now) return new QuoteExpiredError();
  if (quote.recipientMsisdn !== input.recipientMsisdn) return new InvalidRecipientError('The recipient does not match the quote recipient.');
  return undefined;
}

function replay(result: string): Payout {
  const outcome = JSON.parse(result) as StoredOutcome;
  if (outcome.kind === 'payout') return outcome.payout;
  const make = BUSINESS_ERRORS[outcome.code];
  if (!make) throw new Error(`unknown stored outcome ${outcome.code}`);
  const err = make();
  // The replay answers exactly as the first time (one code can come with more than one message). The
  // message is always the gateway's own text, never ZoPay's. Records written before it was kept: the default.
  if (outcome.message !== undefined) err.message = outcome.message;
  throw err;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
