import DataLoader from 'dataloader';
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Viewer } from '../auth/viewer.js';
import { canReadAll, canSeePayout } from '../auth/viewer.js';
import { ZoPayAuthenticationError, ZoPayCircuitOpenError, ZoPayError, ZoPayForbiddenError, ZoPayNotFoundError, ZoPayRateLimitError } from '../zopay/errors.js';
import { BudgetExhaustedError } from '../stores/errors.js';
import { isFinalStatus, statusRank, type CreateQuoteRequest, type Gateway, type Payout, type PayoutStatus, type Quote } from '../zopay/types.js';
import { businessErrorFrom, infrastructureErrorFrom } from './upstream-errors.js';
import { badUserInputError, rateLimitedError, upstreamUnavailableError } from './infra-errors.js';
import { executeDisbursement, type ExecuteInput } from './execute.js';
import type { PayoutServiceDeps } from './ports.js';
import type { ApplyOutcome, RateLimitInput } from '../stores/types.js';
import type { Logger } from '../lib/logger.js';
import { PayoutHub } from '../realtime/hub.js';
import { Deadlines } from '../lib/deadlines.js';
import { Semaphore } from '../lib/semaphore.js';
import { payoutStatusStream, type PayoutStatusStream } from '../realtime/status-stream.js';

export interface PayoutListArgs {
  first: number;
  offset: number;
  filter: { status?: PayoutStatus; gateway?: Gateway; createdAfter?: string; createdBefore?: string };
}
/** A listed payout and its position in the list paged over (ZoPay's offset, or the owner index's): its cursor. */
export interface ListedPayout {
  payout: Payout;
  position: number;
}
export interface PayoutListPage {
  items: ListedPayout[];
  /**
   * Position of the last row this page read, kept or dropped; undefined when it read none. A page whose
   * rows were all dropped ends there, so that the next one starts after them.
   */
  lastRead?: number;
  totalCount: number;
  hasNextPage: boolean;
}

/** Quotes are valid 15 minutes at ZoPay; keep our record a little longer than any quote can live. */
const QUOTE_RECORD_TTL_SECONDS = 60 * 60;
/** Conflicting payouts an instance remembers (each costs a set entry); they should be rare. */
const MAX_CONFLICTED_REMEMBERED = 10_000;
/** Longest a subscription setup holds its slot when its stream is never pulled nor ended. */
const SETUP_GUARD_MS = 10_000;
/**
 * Reads of ZoPay's list one `payouts` page may make: the first, and more only while the gateway drops
 * items ZoPay still lists under the status filter (its list lags the webhooks).
 */
const MAX_LIST_READS = 3;
/** A filtered list of a caller's own payouts (no payouts:read) looks at its most recent this many. */
const OWNED_FILTER_SCAN = 1000;

export class PayoutService {
  readonly hub: PayoutHub;
  /** Subscriptions being set up (shared by the per-request views of this service). */
  private readonly setups: Semaphore;
  /** Live subscriptions per caller on this instance (graphql-ws and SSE alike). */
  private readonly subscriptionsByCaller = new Map<string, number>();
  private readonly streams = new Set<PayoutStatusStream>();
  /** Payouts whose ZoPay read contradicted their stored final, on this instance (oldest dropped first). */
  private readonly conflicted = new Map<string, Payout>();
  /** Upstream reads in flight on this instance, by payout (see readThrough). */
  private readonly upstreamReads = new Map<string, { known: PayoutStatus | undefined; read: Promise<Payout> }>();
  /** A stream must not outlive the token that opened it (SSE; WebSockets are closed at expiry too). */
  private readonly expiries: Deadlines<PayoutStatusStream>;
  /**
   * Subscriptions starting in the same turn read their snapshots in one store round trip, and those of
   * one payout get the same object (so their first event is executed once, see shared-execution.ts).
   * Safe for "never miss an event": each read is requested after its subscriber's watch is live, and
   * the batch is read after the turn's requests, so no read predates a watch it serves.
   */
  private readonly snapshots = new DataLoader<string, Payout | undefined>(
    async (ids) => {
      const unique = [...new Set(ids)];
      const found = await this.deps.stores.status.getMany(unique);
      const byId = new Map(unique.map((id, i) => [id, found[i]]));
      return ids.map((id) => byId.get(id));
    },
    { cache: false, maxBatchSize: 1_000 },
  );

  /**
   * Graceful shutdown: every live subscription ends with a retry-safe error (never `complete`, which
   * would claim the final status was delivered), so clients subscribe again on another instance.
   */
  endStreams(): Promise<void> {
    const err = upstreamUnavailableError({ retrySafe: true, retryAfter: 1 });
    for (const s of this.streams) s.fail(new GraphQLError('This instance is shutting down; subscribe again.', { extensions: err.extensions }));
    return Promise.resolve();
  }

  /** Active subscriptions on this instance, for metrics. */
  activeSubscriptions(): number {
    let n = 0;
    for (const v of this.subscriptionsByCaller.values()) n += v;
    return n;
  }

  /** Per-caller budget for mutations, shared by every instance through the rate limiter. */
  async limitCaller(viewer: Viewer): Promise<void> {
    const result = await this.deps.stores.rateLimiter.take(this.callerLimit(viewer)).catch((err: unknown) => {
      throw this.translate(err, 'read');
    });
    if (!result.allowed) throw rateLimitedError(result.retryAfterMs / 1000);
  }

  private callerLimit(viewer: Viewer): RateLimitInput {
    return { key: `mutations:${callerHash(viewer.sub)}`, limit: this.deps.settings.mutationRateLimitPerMinute, windowMs: 60_000 };
  }

  /** Executes in flight on this instance (shared by every per-request view: see forRequest). */
  private readonly executing = new Set<Promise<Payout>>();

  constructor(private readonly deps: PayoutServiceDeps) {
    this.setups = new Semaphore(deps.settings.subscribeSetupsInFlight ?? 256);
    this.expiries = new Deadlines(() => deps.clock.now(), (stream) =>
      stream.fail(new GraphQLError('The token has expired; subscribe again with a new one.', { extensions: { code: 'UNAUTHENTICATED' } })),
    );
    this.hub = new PayoutHub({
      bus: deps.bus,
      log: deps.log,
      reconcileIntervalMs: deps.settings.reconcileIntervalMs,
      // One read per payout per interval across instances (design §6.6): a lease of 0.9 interval, so
      // that a tick firing a little early still gets its turn.
      claimReconcile: async (id) => {
        const key = `reconcile:${id}`;
        const token = await deps.stores.leases.acquire(key, Math.max(1, Math.floor(deps.settings.reconcileIntervalMs * 0.9)));
        return token === undefined ? undefined : { release: () => deps.stores.leases.release(key, token) };
      },
      known: (id) => deps.stores.status.get(id),
      refresh: (id) => this.refresh(id),
    });
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  /**
   * This service for one request: the same state (hub, subscription counts); every line it logs
   * carries the request id.
   */
  forRequest(requestId: string): PayoutService {
    const base = this.deps;
    let log: Logger | undefined;
    // The child logger is built on the first line logged. Plain assignments, not property descriptors:
    // Object.create(proto, descriptors) makes slow dictionary objects, measurable on every mutation.
    const deps: PayoutServiceDeps = {
      ...base,
      get log() {
        return (log ??= base.log.child({ requestId }));
      },
      operation: {},
    };
    const scoped = Object.create(this) as { deps: PayoutServiceDeps };
    scoped.deps = deps;
    return scoped as unknown as PayoutService;
  }

  /**
   * Authorizes, then opens the live status of one payout, taking one of the instance's setup slots
   * until its snapshot is read (see settings.subscribeSetupsInFlight). Someone else's payout looks like
   * a missing one, and nothing is watched for it.
   */
  async openStatusStream(
    viewer: Viewer,
    payoutId: string,
    load: (id: string) => Promise<Payout | null>,
    onMissing: () => Error,
    /** A slot the transport already took (see admitSubscribe). */
    admitted?: () => void,
  ): Promise<PayoutStatusStream> {
    const done = admitted ?? (await this.admitSubscribe());
    try {
      if (!(await this.isVisible(viewer, payoutId))) throw onMissing();
      const stream = this.statusStream(viewer, payoutId, load, onMissing, done);
      // Started here, so that a payout that does not exist (or a store that cannot tell) fails the
      // subscription itself, as someone else's payout does, rather than its first event.
      await stream.ready();
      return stream;
    } catch (err) {
      done();
      throw err;
    }
  }

  /**
   * Takes a subscription setup slot (waiting for one if all are taken). The returned function gives it
   * back and may be called any number of times; a slot nobody gives back returns by itself after 10 s.
   */
  async admitSubscribe(): Promise<() => void> {
    let release: (() => void) | undefined = await this.setups.acquire();
    let guard: NodeJS.Timeout | undefined = setTimeout(() => release?.(), SETUP_GUARD_MS);
    guard.unref();
    // Drops what it holds once called: live subscriptions keep this function (context, stream), and a
    // spent timer and releaser would cost every idle subscriber a few hundred bytes.
    return () => {
      clearTimeout(guard);
      guard = undefined;
      const r = release;
      release = undefined;
      r?.();
    };
  }

  /** Live status of one payout for one subscriber (subscribe → snapshot → stream). */
  private statusStream(
    viewer: Viewer,
    payoutId: string,
    load: (id: string) => Promise<Payout | null>,
    onMissing: () => Error,
    onSetupDone: () => void,
  ): PayoutStatusStream {
    const active = this.subscriptionsByCaller.get(viewer.sub) ?? 0;
    if (active >= this.deps.settings.subscriptionsPerCaller) throw rateLimitedError(5);
    this.subscriptionsByCaller.set(viewer.sub, active + 1);
    const stream = payoutStatusStream({
      hub: this.hub,
      payoutId,
      onMissing,
      onSetupDone,
      translate: (err) => (err instanceof GraphQLError ? err : this.translate(err, 'read')),
      onEnd: () => {
        const n = (this.subscriptionsByCaller.get(viewer.sub) ?? 1) - 1;
        if (n <= 0) this.subscriptionsByCaller.delete(viewer.sub);
        else this.subscriptionsByCaller.set(viewer.sub, n);
        this.streams.delete(stream);
        if (viewer.expiresAt !== undefined) this.expiries.remove(viewer.expiresAt, stream);
      },
      snapshot: async () => {
        const known = await this.snapshots.load(payoutId).catch(() => undefined);
        return known ?? (await load(payoutId)) ?? undefined;
      },
    });
    this.streams.add(stream);
    if (viewer.expiresAt !== undefined) this.expiries.add(viewer.expiresAt, stream);
    return stream;
  }

  /**
   * Reads a payout from ZoPay and records it monotonically (reconciler, conflicting webhooks). `read`
   * is the status ZoPay answered, `payout` what the gateway serves (the stored status wins).
   */
  async refresh(payoutId: string): Promise<{ payout: Payout; advanced: boolean; read: PayoutStatus; conflict: boolean } | undefined> {
    let fresh: Payout;
    try {
      fresh = await this.deps.zopay.getPayout(payoutId, { deadline: this.deadline() });
    } catch (err) {
      if (err instanceof ZoPayNotFoundError) return undefined;
      throw err;
    }
    const { outcome, current } = await this.applyRead(fresh);
    return { payout: withStored(fresh, current), advanced: outcome === 'advanced' || outcome === 'created', read: fresh.status, conflict: outcome === 'conflict' };
  }

  /**
   * Records what ZoPay answered. A read that reports another final than the stored one changes nothing
   * (a final never changes, and clients may have acted on it) but is an operator's problem: ZoPay now
   * contradicts what it told the gateway before.
   */
  private async applyRead(fresh: Payout): Promise<{ outcome: ApplyOutcome; current: Payout }> {
    const applied = await this.deps.stores.status.apply(fresh);
    if (applied.outcome === 'conflict' && !this.conflicted.has(fresh.id)) {
      // Once per payout and instance: reads of it are then served from what this read showed, with the
      // stored final (see fetchPayouts), not read again.
      if (this.conflicted.size >= MAX_CONFLICTED_REMEMBERED) this.conflicted.delete(this.conflicted.keys().next().value as string);
      this.conflicted.set(fresh.id, withStored(fresh, applied.current));
      this.deps.log.error(
        { payoutId: fresh.id, stored: applied.current.status, read: fresh.status },
        'CONFLICTING FINAL STATUS: ZoPay now reports another final status than the stored one, which is kept; review this payout with ZoPay',
      );
      this.deps.onFinalConflict?.('read');
    }
    return applied;
  }

  private deadline(): number {
    return operationDeadline(this.deps);
  }

  /**
   * A subscription event is an operation of its own (its reads get a whole deadline); called as each
   * event starts, with its fresh loaders.
   */
  restartOperation(): void {
    if (this.deps.operation) this.deps.operation.startedAt = undefined;
  }

  /**
   * A recipient outside the countries this gateway pays to (RECIPIENT_COUNTRY_CODES) is bad input: a
   * quote is refused before anything is charged or sent (ZoPay would refuse it after a round trip); an
   * execute before its key is claimed (see executeDisbursement).
   */
  private recipientRefusal(msisdn: string): GraphQLError | undefined {
    const codes = this.deps.settings.recipientCountryCodes;
    if (!codes || codes.some((code) => msisdn.startsWith(`+${code}`))) return undefined;
    const message = `Msisdn must be a number of ${codes.map((c) => `+${c}`).join(' or ')}: this gateway pays out to no other country.`;
    return badUserInputError(`Invalid input: input.recipient.msisdn: ${message}`, [{ path: 'input.recipient.msisdn', message }]);
  }

  async createQuote(viewer: Viewer, req: CreateQuoteRequest): Promise<Quote> {
    const refusal = this.recipientRefusal(req.recipientMsisdn);
    if (refusal) throw refusal;
    await this.limitCaller(viewer);
    let quote: Quote;
    try {
      quote = await this.deps.zopay.createQuote(req, { deadline: this.deadline() });
    } catch (err) {
      throw this.translate(err, 'quote');
    }
    await this.deps.stores.quotes
      .put(
        { quoteId: quote.id, owner: viewer.sub, recipientMsisdn: quote.recipientMsisdn, expiresAt: quote.expiresAt },
        QUOTE_RECORD_TTL_SECONDS,
      )
      .catch((err: unknown) => {
        throw this.translate(err, 'quote');
      });
    return quote;
  }

  executeDisbursement(viewer: Viewer, input: ExecuteInput, onReplay?: () => void): Promise<Payout> {
    // The recipient's country is checked with the key (a replay or resume of a key recorded before the
    // countries were narrowed must still get its payout), not up front like createQuote's.
    const recipientRefusal = this.recipientRefusal(input.recipientMsisdn);
    const run = executeDisbursement(this.deps, viewer, input, {
      rateLimit: this.callerLimit(viewer),
      translate: (err) => this.translate(err, 'execute'),
      ...(onReplay ? { onReplay } : {}),
      ...(recipientRefusal ? { recipientRefusal } : {}),
    });
    // Kept until its key's record is written (outcome stored, released or marked unknown): shutdown
    // waits for that before closing the store (settleExecutes).
    const executing = this.executing;
    executing.add(run);
    const forget = () => executing.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Executes still running. */
  executesInFlight(): number {
    return this.executing.size;
  }

  /**
   * Waits at most `ms` for the running executes to finish their key's bookkeeping (shutdown, once their
   * ZoPay calls were cut); resolves to how many are still running.
   */
  async settleExecutes(ms: number): Promise<number> {
    if (this.executing.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.executing]), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    return this.executing.size;
  }

  /** The payout if it exists and the viewer may see it; null otherwise (indistinguishable on purpose). */
  async findVisible(viewer: Viewer, id: string, load: (id: string) => Promise<Payout | null>): Promise<Payout | null> {
    if (!(await this.isVisible(viewer, id))) return null;
    return load(id);
  }

  async isVisible(viewer: Viewer, id: string): Promise<boolean> {
    if (canReadAll(viewer)) return true;
    const owner = await this.deps.stores.owners.getOwner(id).catch((err: unknown) => {
      throw this.translate(err, 'read');
    });
    return canSeePayout(viewer, owner);
  }

  /** Loader batch function: current payouts, never older than what the gateway already knows. */
  async fetchPayouts(ids: readonly string[]): Promise<(Payout | null)[]> {
    const deadline = this.deadline();
    // One store round trip for the whole batch; a store outage only costs the shortcut.
    const known = await this.deps.stores.status.getMany(ids).catch(() => ids.map(() => undefined));
    return Promise.all(
      ids.map(async (id, i) => {
        const stored = known[i];
        // A final status never changes: a complete final record needs no upstream call, nor one ZoPay
        // has already contradicted (reading it again would only repeat the conflict).
        if (stored && isCompleteFinal(stored)) return stored;
        const contradicted = this.conflicted.get(id);
        if (stored && contradicted) return withStored(contradicted, stored);
        try {
          return await this.readThrough(id, stored?.status, deadline);
        } catch (err) {
          // Reads leave the last of the merchant's ZoPay budget to payments, wait out a 429 like any call
          // and fail fast while the breaker is open; ZoPay may also fail to answer (5xx, timeout) before
          // the breaker opens. A reader then gets what the gateway knows, which webhooks keep current:
          // a final status it holds must not turn into an error or "no such payout".
          if (stored && !(err instanceof ZoPayNotFoundError) && infrastructureErrorFrom(err)) {
            // 429s, the budget and an open breaker are counted and logged where they start.
            if (!(err instanceof BudgetExhaustedError || err instanceof ZoPayRateLimitError || err instanceof ZoPayCircuitOpenError)) {
              this.deps.log.warn({ err: errSummary(err), payoutId: id, stored: stored.status }, 'ZoPay read failed; serving the status the gateway holds');
            }
            return stored;
          }
          if (!(err instanceof ZoPayNotFoundError)) throw this.translate(err, 'read');
          if (!stored) return null;
          // ZoPay accepted it (or told us of it), so it exists: its read side may lag the write. "No such
          // payout" would tell its owner a payout that may be paying does not exist.
          this.deps.log.warn({ payoutId: id, stored: stored.status }, 'ZoPay does not find a payout the gateway has recorded; serving the record');
          return stored;
        }
      }),
    );
  }

  /**
   * Reads a payout from ZoPay and records it, sharing a read already in flight on this instance for the
   * same payout (concurrent replays of one execute, readers, subscribers of one event): every GET counts
   * against the merchant's ZoPay budget. Only a read that started when the gateway knew what it knows
   * now is shared: after a new status arrived (a final event needing completedAt, say), an older read
   * could answer from before it, so a fresh one is made.
   */
  private readThrough(id: string, known: PayoutStatus | undefined, deadline: number): Promise<Payout> {
    const inFlight = this.upstreamReads.get(id);
    if (inFlight && inFlight.known === known) return inFlight.read;
    const read = this.deps.zopay.getPayout(id, { deadline }).then((fresh) => this.recordSnapshot(fresh));
    const entry = { known, read };
    this.upstreamReads.set(id, entry);
    const settle = () => {
      if (this.upstreamReads.get(id) === entry) this.upstreamReads.delete(id);
    };
    read.then(settle, settle);
    return read;
  }

  /**
   * Applies a snapshot monotonically and returns what subscribers and readers should see. A read that
   * moves the payout on is announced like a webhook's advance: the webhook that follows it finds the
   * status already stored and publishes nothing, so without this the subscribers (here and on other
   * instances) would wait for their reconciler.
   */
  async recordSnapshot(payout: Payout): Promise<Payout> {
    try {
      const { outcome, current } = await this.applyRead(payout);
      const served = { ...withStored(payout, current), source: payout.source };
      if (outcome === 'advanced') {
        this.hub.deliver(served);
        void this.deps.bus.publish(served).catch(() => undefined);
      }
      return served;
    } catch (err) {
      this.deps.log.warn({ err: errSummary(err), payoutId: payout.id }, 'status store unavailable; serving the upstream snapshot');
      return payout;
    }
  }

  /**
   * A page of ZoPay's list, with the statuses the gateway knows. An item the gateway knows has left the
   * status filter is dropped, and the page is filled from further down ZoPay's list (at most
   * MAX_LIST_READS reads). Every item keeps its ZoPay offset as its position, so the next page starts
   * after the last row read, whatever was dropped: no item is repeated or skipped. `totalCount` is
   * ZoPay's count for the filter.
   */
  async listPayouts(viewer: Viewer, args: PayoutListArgs): Promise<PayoutListPage> {
    if (!canReadAll(viewer)) return this.listOwned(viewer, args);
    const deadline = this.deadline();
    const items: ListedPayout[] = [];
    let offset = args.offset;
    let lastRead: number | undefined;
    let totalCount = 0;
    let hasNextPage = false;
    try {
      for (let reads = 0; reads < MAX_LIST_READS; reads++) {
        const page = await this.deps.zopay.listPayouts(
          {
            limit: args.first,
            offset,
            ...(args.filter.status ? { status: args.filter.status } : {}),
            ...(args.filter.gateway ? { gateway: args.filter.gateway } : {}),
            ...(args.filter.createdAfter ? { startDate: args.filter.createdAfter } : {}),
            ...(args.filter.createdBefore ? { endDate: args.filter.createdBefore } : {}),
          },
          { deadline },
        );
        if (reads === 0) totalCount = page.total;
        hasNextPage = page.hasMore;
        let dropped = 0;
        for (const [i, payout] of (await this.servedFromList(page.payouts)).entries()) {
          if (items.length === args.first) {
            // This row and those after it are left for the next page.
            hasNextPage = true;
            break;
          }
          lastRead = offset + i;
          // The filter ZoPay applied may no longer hold for an item the gateway knows better.
          if (args.filter.status && payout.status !== args.filter.status) dropped++;
          else items.push({ payout, position: offset + i });
        }
        // A short page ZoPay gave is its answer; only a shortfall of the gateway's own is read further.
        if (items.length === args.first || !page.hasMore || dropped === 0) break;
        offset += page.payouts.length;
      }
    } catch (err) {
      throw this.translate(err, 'read');
    }
    return { items, ...(lastRead === undefined ? {} : { lastRead }), totalCount, hasNextPage };
  }

  /**
   * List items as the gateway serves them: never older than what it knows, and a stored final kept
   * against a list that contradicts it (as payout(id) serves it). Nothing is recorded from a list: its
   * items carry no failure code, and a record complete enough to be served without a GET must have one.
   */
  private async servedFromList(listed: Payout[]): Promise<Payout[]> {
    const known = await this.deps.stores.status.getMany(listed.map((p) => p.id)).catch(() => undefined);
    return listed.map((p, i) => {
      const stored = known?.[i];
      if (!stored) return p;
      const storedWins = isFinalStatus(stored.status) || statusRank(stored.status) > statusRank(p.status);
      return storedWins ? { ...withStored(p, stored), source: p.source } : p;
    });
  }

  /**
   * Callers without `payouts:read` list only what they executed, from the gateway's owner index (ZoPay
   * cannot filter by caller). Filters are applied to the loaded payouts.
   */
  private async listOwned(viewer: Viewer, args: PayoutListArgs): Promise<PayoutListPage> {
    const owned = (page: { offset: number; limit: number }) =>
      this.deps.stores.owners.listOwned(viewer.sub, page).catch((err: unknown) => {
        throw this.translate(err, 'read');
      });
    const hasFilter = Object.values(args.filter).some((v) => v !== undefined);
    if (!hasFilter) {
      // The owner index pages itself: any offset, however many payouts the caller has.
      const { ids, total } = await owned({ offset: args.offset, limit: args.first });
      const items: ListedPayout[] = [];
      (await this.fetchPayouts(ids)).forEach((payout, i) => {
        if (payout) items.push({ payout, position: args.offset + i });
      });
      const lastRead = ids.length > 0 ? args.offset + ids.length - 1 : undefined;
      return { items, ...(lastRead === undefined ? {} : { lastRead }), totalCount: total, hasNextPage: args.offset + ids.length < total };
    }
    // A filter is applied here, over the caller's most recent OWNED_FILTER_SCAN payouts. A position is
    // the payout's place in the owner index, not in the filtered list: a payout that leaves the filter
    // between two pages (a webhook) then moves no later one, so the next page neither skips nor repeats.
    const { ids } = await owned({ offset: 0, limit: OWNED_FILTER_SCAN });
    const matching: ListedPayout[] = [];
    (await this.fetchPayouts(ids)).forEach((payout, position) => {
      if (payout !== null && matches(payout, args.filter)) matching.push({ payout, position });
    });
    const rest = matching.filter((m) => m.position >= args.offset);
    return { items: rest.slice(0, args.first), totalCount: matching.length, hasNextPage: rest.length > args.first };
  }

  /** Business outcome → typed error; infrastructure → top-level code; anything else → masked. */
  translate(err: unknown, operation: 'quote' | 'execute' | 'read'): Error {
    if (operation !== 'read') {
      const business = businessErrorFrom(err, operation);
      if (business) return business;
    }
    if (err instanceof ZoPayAuthenticationError || err instanceof ZoPayForbiddenError) {
      // Every call fails alike until someone fixes the configuration or the clock: loud.
      this.deps.log.error({ err: errSummary(err), operation }, 'ZoPay refused the gateway itself (API key, secret, clock or origin); operator action needed');
    }
    const infra = infrastructureErrorFrom(err);
    if (infra) {
      // What the client is told says only "retry". The operator learns what failed: ZoPay's status, code
      // and correlation id, a timeout, a connection error, or the store. (429s, the budget and an open
      // breaker are counted and logged where they start, not once per refused call.)
      // (An execute whose outcome is unknown logs its own line, with the key's state.)
      const loggedByExecute = operation === 'execute' && (err as { mayHaveReachedUpstream?: boolean }).mayHaveReachedUpstream === true;
      if (infra.extensions['code'] === 'UPSTREAM_UNAVAILABLE' && !loggedByExecute && !(err instanceof ZoPayCircuitOpenError) && !(err instanceof ZoPayAuthenticationError) && !(err instanceof ZoPayForbiddenError)) {
        this.deps.log.warn({ err: errSummary(err), operation }, 'ZoPay or the store failed; the client was told UPSTREAM_UNAVAILABLE');
      }
      return infra;
    }
    this.deps.log.error({ err: errSummary(err), operation }, 'unexpected failure');
    return err instanceof Error ? err : new Error('unexpected failure');
  }
}

function isCompleteFinal(p: Payout): boolean {
  // A final snapshot that still carries a non-final's `completedAt: null` is not complete.
  const fields = [p.amount, p.createdAt, p.completedAt, p.gatewayFee, p.platformFee, p.totalAmount, p.recipientMsisdn, p.gateway];
  return isFinalStatus(p.status) && fields.every((v) => v !== undefined && v !== null);
}

function matches(p: Payout, f: PayoutListArgs['filter']): boolean {
  if (f.status && p.status !== f.status) return false;
  if (f.gateway && p.gateway !== f.gateway) return false;
  const created = p.createdAt ? Date.parse(p.createdAt) : undefined;
  if (f.createdAfter && (created === undefined || created < Date.parse(f.createdAfter))) return false;
  if (f.createdBefore && (created === undefined || created > Date.parse(f.createdBefore))) return false;
  return true;
}

/** The fields a record actually holds (a merge must not overwrite known values with undefined). */
export function definedFields(p: Payout): Partial<Payout> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<Payout>;
}

/**
 * What readers and subscribers see once a snapshot met the store: the stored record (the store never
 * regresses a status), with the fields it lacks filled from the snapshot. A snapshot of another status
 * lends no outcome fields: a FAILED payout never shows the completedAt of a SUCCESS read, nor a SUCCESS
 * one the failure of a FAILED read.
 */
export function withStored(snapshot: Payout, stored: Payout): Payout {
  if (snapshot.status === stored.status) return { ...snapshot, ...definedFields(stored) };
  const { completedAt: _completedAt, failure: _failure, ...rest } = snapshot;
  return { ...rest, ...definedFields(stored) };
}

export interface ErrSummary {
  name: string;
  code?: string;
  /** ZoPay's answer, when it answered: its HTTP status, machine code and correlation id (safe-filtered). */
  httpStatus?: number;
  upstreamCode?: string;
  correlationId?: string;
}

/**
 * Error name and code, and for a ZoPay answer what tells the operator why (status, ZoPay's machine code,
 * its correlation id for ZoPay's support): never a message or a body, which may carry an MSISDN.
 */
export function errSummary(err: unknown): ErrSummary {
  if (!(err instanceof Error)) return { name: typeof err };
  const code = (err as { code?: unknown }).code;
  const summary: ErrSummary = typeof code === 'string' ? { name: err.name, code } : { name: err.name };
  if (err instanceof ZoPayError) {
    if (err.httpStatus !== undefined) summary.httpStatus = err.httpStatus;
    if (err.upstreamCode !== undefined) summary.upstreamCode = err.upstreamCode;
    if (err.correlationId !== undefined) summary.correlationId = err.correlationId;
  }
  return summary;
}

/**
 * The deadline of the operation's upstream work (design §6.4: one per GraphQL operation, retries and
 * waits included): counted from the operation's first upstream step, so that two fields of one document,
 * or an execute that first waited for a duplicate, do not each get a whole one.
 */
export function operationDeadline(deps: Pick<PayoutServiceDeps, 'operation' | 'clock' | 'settings'>): number {
  const op = deps.operation;
  const start = op ? (op.startedAt ??= deps.clock.now()) : deps.clock.now();
  return start + deps.settings.operationDeadlineMs;
}

/** Stable, non-reversible id of a caller for keys and logs. */
const callerHashes = new Map<string, string>();

export function callerHash(sub: string): string {
  let hash = callerHashes.get(sub);
  if (hash === undefined) {
    hash = createHash('sha256').update(sub).digest('base64url').slice(0, 22);
    // Bounded: callers are few; a flood of distinct subs only costs re-hashing.
    if (callerHashes.size >= 10_000) callerHashes.clear();
    callerHashes.set(sub, hash);
  }
  return hash;
}
