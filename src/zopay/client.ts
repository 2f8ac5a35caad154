import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { breakerOutcomeOf, CircuitBreaker, type BreakerTicket } from './circuit-breaker.js';
import { DEFAULT_RETRY_POLICY, type AttemptInfo, type RetryPolicy, type UpstreamPriority, type ZoPayClientOptions } from './client-options.js';
import { errorFromResponse } from './error-factory.js';
import { ZoPayBadResponseError, ZoPayError, ZoPayRateLimitError, ZoPayTimeoutError } from './errors.js';
import { backoffDelay, classifyForRetry } from './retry.js';
import { signedHeaders } from './sign.js';
import type { HttpTransport, TransportResponse } from './transport.js';
import type {
  CallOptions,
  CreateQuoteRequest,
  ExecuteDisbursementRequest,
  ListPayoutsRequest,
  Payout,
  PayoutPage,
  Quote,
  ZoPayApi,
} from './types.js';
import { parseExecuteResponse, parseGetPayoutResponse, parseListPayoutsResponse, parseQuoteResponse, WireFormatError } from './wire.js';
import { toMsisdn } from './wire-normalize.js';

// The option types live in client-options.ts; re-exported here because they are the constructor's contract.
export type { AttemptInfo, RetryPolicy, ZoPayClientOptions } from './client-options.js';

interface CallSpec<T> {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  /** Serialised once; every attempt sends (and signs) the same string. */
  body?: object;
  /** Whether repeating the request cannot act twice (see retry.ts). */
  idempotent: boolean;
  /** Reads leave the shared budget's last slots to quotes and executes (upstream-budget.ts). */
  priority: UpstreamPriority;
  parse(res: TransportResponse, nowMs: number): T;
  correlationIdOf?(value: T): string | undefined;
}

const MAX_LIST_LIMIT = 100;

/**
 * The ZoPay merchant API over an injectable transport: signs every attempt afresh, retries what is safe
 * to retry within a deadline, fails fast through a circuit breaker, and maps answers to domain types.
 */
export class ZoPayClient implements ZoPayApi {
  readonly breaker: Pick<CircuitBreaker, 'acquire' | 'record'>;
  private readonly transport: HttpTransport;
  private readonly credentials: ZoPayClientOptions['credentials'];
  private readonly quotePath: string;
  private readonly clock: { now(): number };
  private readonly nonce: () => string;
  private readonly random: () => number;
  private readonly policy: RetryPolicy;
  private readonly budget: ZoPayClientOptions['budget'];
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly stop: AbortSignal | undefined;
  /**
   * Until when (clock time) ZoPay's last 429 told this instance to stop sending: its `retry_after`
   * applies to the API key, so to every call, not only the one it answered. Other instances learn it
   * from their own 429s; the shared budget paces them all meanwhile.
   */
  private pausedUntil = 0;
  /** How long ZoPay's last 429 still holds this instance's calls back (0 when it does not). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /**
   * The least time an attempt sent after a wait (a backoff, a 429's retry_after or pause, a slot of the
   * shared budget) must have before its call's deadline: one sent with milliseconds to go would time out
   * after sending, and for an execute its outcome would be unknown. A tenth of the operation deadline,
   * at most a second.
   */
  private get answerMargin(): number {
    return Math.min(MAX_ANSWER_MARGIN_MS, this.policy.operationDeadlineMs / 10);
  }
  private readonly onAttempt: ZoPayClientOptions['onAttempt'];

  constructor(opts: ZoPayClientOptions) {
    this.transport = opts.transport;
    this.credentials = { ...opts.credentials };
    this.quotePath = opts.quotePath ?? '/api/v1/disbursements/quote';
    this.clock = opts.clock ?? Date;
    this.nonce = opts.nonce ?? randomUUID;
    this.random = opts.random ?? Math.random;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
    this.policy.maxAttempts = Math.max(1, Math.floor(this.policy.maxAttempts));
    this.breaker = opts.breaker ?? new CircuitBreaker({ clock: this.clock });
    this.budget = opts.budget;
    this.sleep = opts.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.onAttempt = opts.onAttempt;
    this.stop = opts.stop;
  }

  createQuote(req: CreateQuoteRequest, opts?: CallOptions): Promise<Quote> {
    const msisdn = toMsisdn(req.recipientMsisdn) ?? req.recipientMsisdn;
    return this.call(
      {
        operation: 'createQuote',
        method: 'POST',
        path: this.quotePath,
        // Key order is the documented one; JSON.stringify keeps insertion order.
        body: {
          gateway: req.gateway,
          transaction_type: 'DISBURSEMENT',
          amount: req.amount,
          currency: req.currency,
          recipient: { msisdn },
        },
        // A quote POST has no idempotency key: after an unknown outcome a retry could create a second quote.
        idempotent: false,
        priority: 'payment',
        parse: (res, nowMs) => parseQuoteResponse(res.body, { ...req, recipientMsisdn: msisdn }, nowMs),
      },
      opts,
    );
  }

  executeDisbursement(req: ExecuteDisbursementRequest, opts?: CallOptions): Promise<Payout> {
    return this.call(
      {
        operation: 'executeDisbursement',
        method: 'POST',
        path: '/api/v1/disbursements/execute',
        body: {
          quote_id: req.quoteId,
          idempotency_key: req.idempotencyKey,
          recipient: { msisdn: toMsisdn(req.recipientMsisdn) ?? req.recipientMsisdn },
        },
        // Every attempt carries the same idempotency_key, so ZoPay pays out at most once.
        idempotent: true,
        priority: 'payment',
        parse: (res) => parseExecuteResponse(res.body),
        correlationIdOf: (p) => p.correlationId,
      },
      opts,
    );
  }

  getPayout(id: string, opts?: CallOptions): Promise<Payout> {
    if (id === '') return Promise.reject(new TypeError('getPayout needs a payout id'));
    return this.call(
      {
        operation: 'getPayout',
        method: 'GET',
        path: `/api/v1/disbursements/${encodeURIComponent(id)}`,
        idempotent: true,
        priority: 'read',
        parse: (res) => {
          const payout = parseGetPayoutResponse(res.body);
          // Another payout than the one asked for (a mixed-up cache or proxy on the way) is no answer:
          // served or recorded under this id, it would show one caller's payout to another.
          if (payout.id !== id) throw new WireFormatError('payout response (for another payout than the one asked for)');
          return payout;
        },
      },
      opts,
    );
  }

  listPayouts(req: ListPayoutsRequest, opts?: CallOptions): Promise<PayoutPage> {
    const limit = Number.isFinite(req.limit) ? Math.min(MAX_LIST_LIMIT, Math.max(1, Math.trunc(req.limit))) : 20;
    const offset = Number.isFinite(req.offset) ? Math.max(0, Math.trunc(req.offset)) : 0;
    const query: Record<string, string> = {};
    if (req.status !== undefined) query['status'] = req.status;
    if (req.gateway !== undefined) query['gateway'] = req.gateway;
    query['limit'] = String(limit);
    query['offset'] = String(offset);
    if (req.startDate !== undefined) query['startDate'] = req.startDate;
    if (req.endDate !== undefined) query['endDate'] = req.endDate;
    if (req.batchId !== undefined) query['batch_id'] = req.batchId;
    return this.call(
      {
        operation: 'listPayouts',
        method: 'GET',
        path: '/api/v1/disbursements',
        query,
        idempotent: true,
        priority: 'read',
        parse: (res) => parseListPayoutsResponse(res.body, { limit, offset }),
      },
      opts,
    );
  }

  /**
   * One logical operation: attempts until success, a stop decision, `maxAttempts`, or the deadline.
   * Bulk and refund calls reuse this unchanged.
   */
  private async call<T>(spec: CallSpec<T>, callOpts: CallOptions = {}): Promise<T> {
    const opts = this.stop ? { ...callOpts, signal: callOpts.signal ? AbortSignal.any([callOpts.signal, this.stop]) : this.stop } : callOpts;
    const deadline = opts.deadline ?? this.clock.now() + this.policy.operationDeadlineMs;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let last: unknown;
    // Once an attempt may have reached ZoPay, the call's outcome stays unknown whatever later attempts say
    // (a later 401, 429, open circuit or unsent attempt proves nothing about the earlier one).
    let ambiguous: ZoPayError | undefined;

    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      // A call that starts with less than the answer margin of its operation's deadline left (earlier
      // fields of the document, a wait for a duplicate) is not sent at all: sent, it would time out after
      // reaching ZoPay, and an execute's outcome would be unknown. (Later attempts are held to the same
      // margin before their wait, below.)
      const left = deadline - this.clock.now();
      if (left <= 0 || (attempt === 1 && left < this.answerMargin)) {
        last ??= new ZoPayTimeoutError({ message: `Too little of the ${spec.operation} deadline was left to send it`, requestSent: false });
        break;
      }
      try {
        return await this.attempt(spec, body, attempt, deadline, opts.signal);
      } catch (err) {
        if (err instanceof BudgetRefusal) {
          last = err.error;
          break;
        }
        last = err;
        if (err instanceof ZoPayError && err.mayHaveReachedUpstream) ambiguous = err;
      }
      if (attempt === this.policy.maxAttempts || opts.signal?.aborted) break;
      const decision = classifyForRetry(last, { idempotent: spec.idempotent });
      if (decision === 'stop') break;
      const told = last instanceof ZoPayRateLimitError ? last.retryAfterSeconds : undefined;
      const wait =
        told !== undefined
          ? told * 1000
          : backoffDelay(attempt, { baseMs: this.policy.baseDelayMs, maxMs: this.policy.maxDelayMs, random: this.random });
      // Waiting past the deadline only to give up is pointless: stop now with what we know.
      if (this.clock.now() + wait + this.answerMargin >= deadline) break;
      try {
        await this.sleep(wait, opts.signal);
      } catch {
        break;
      }
    }
    throw last instanceof ZoPayError && last.mayHaveReachedUpstream ? last : (ambiguous ?? last);
  }

  private async attempt<T>(
    spec: CallSpec<T>,
    body: string | undefined,
    attempt: number,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let startedAt = this.clock.now();
    // ZoPay's last 429 asked this key to wait (§6.4): nothing is sent before then, whichever call asks. A
    // 429 that comes while this call waits may push the pause further: look again after each wait.
    for (let pause = this.pausedUntil - startedAt; pause > 0; pause = this.pausedUntil - startedAt) {
      // A call is sent after the wait only with time left for ZoPay to answer: an execute sent with a few
      // milliseconds to go would time out after sending, and its outcome would be unknown.
      if (startedAt + pause + this.answerMargin >= deadline) throw this.pauseRefusal(spec, attempt, startedAt, pause);
      await this.sleep(pause, signal);
      startedAt = this.clock.now();
    }
    let ticket: BreakerTicket;
    try {
      ticket = this.breaker.acquire();
    } catch (err) {
      this.report(spec, attempt, startedAt, { errorCode: errorCodeOf(err) });
      throw err;
    }
    if (this.budget) {
      try {
        await this.budget.acquire(deadline - this.answerMargin, spec.priority);
      } catch (err) {
        this.breaker.record('ignored', ticket);
        this.report(spec, attempt, startedAt, { errorCode: errorCodeOf(err) });
        throw new BudgetRefusal(err);
      }
      // A 429 that came while this call waited for its slot: nothing is sent before its retry_after.
      const pausedFor = this.pausedUntil - this.clock.now();
      if (pausedFor > 0) {
        this.breaker.record('ignored', ticket);
        throw this.pauseRefusal(spec, attempt, startedAt, pausedFor);
      }
    }
    let status: number | undefined;
    try {
      const res = await this.send(spec, body, deadline, signal);
      status = res.status;
      const nowMs = this.clock.now();
      if (res.status < 200 || res.status > 299) throw errorFromResponse(res, { operation: spec.operation, nowMs });
      let value: T;
      try {
        value = spec.parse(res, nowMs);
      } catch (err) {
        throw new ZoPayBadResponseError({
          message: `ZoPay answered ${spec.operation} with a body we could not read; it may have acted`,
          httpStatus: res.status,
          cause: err,
        });
      }
      this.breaker.record('success', ticket);
      this.report(spec, attempt, startedAt, { status, correlationId: spec.correlationIdOf?.(value) });
      return value;
    } catch (err) {
      if (err instanceof ZoPayRateLimitError && err.retryAfterSeconds !== undefined) {
        this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + err.retryAfterSeconds * 1000);
      }
      // A caller's abort says nothing about ZoPay's health.
      this.breaker.record(signal?.aborted ? 'ignored' : breakerOutcomeOf(err), ticket);
      this.report(spec, attempt, startedAt, {
        status,
        errorCode: errorCodeOf(err),
        correlationId: err instanceof ZoPayError ? err.correlationId : undefined,
      });
      throw err;
    }
  }

  /** A call held back by ZoPay's last 429 (nothing sent), reported as an attempt that ends the call. */
  private pauseRefusal<T>(spec: CallSpec<T>, attempt: number, startedAt: number, pauseMs: number): BudgetRefusal {
    const refused = new ZoPayRateLimitError({ message: `ZoPay asked to wait before ${spec.operation}; nothing was sent`, retryAfterSeconds: Math.ceil(pauseMs / 1000) });
    this.report(spec, attempt, startedAt, { errorCode: errorCodeOf(refused) });
    return new BudgetRefusal(refused);
  }

  /** Signs with a fresh timestamp and nonce; ZoPay rejects a nonce reused within 10 minutes (§2.3). */
  private send<T>(spec: CallSpec<T>, body: string | undefined, deadline: number, signal: AbortSignal | undefined) {
    const now = this.clock.now();
    const timestamp = String(Math.floor(now / 1000));
    const nonce = this.nonce();
    const { apiKey, apiSecret, origin } = this.credentials;
    const headers = signedHeaders({ method: spec.method, path: spec.path, query: spec.query, body, timestamp, nonce, origin }, { apiKey, apiSecret });
    if (spec.method === 'POST') headers['content-type'] = 'application/json';
    return this.transport.request({
      method: spec.method,
      path: spec.path,
      query: spec.query,
      headers,
      body,
      signal,
      timeoutMs: Math.max(1, Math.min(this.policy.attemptTimeoutMs, deadline - now)),
    });
  }

  private report<T>(
    spec: CallSpec<T>,
    attempt: number,
    startedAt: number,
    info: Pick<AttemptInfo, 'status' | 'errorCode' | 'correlationId'>,
  ): void {
    if (!this.onAttempt) return;
    try {
      this.onAttempt({ operation: spec.operation, attempt, durationMs: this.clock.now() - startedAt, ...info });
    } catch {
      // Observability must never change the outcome of a payout call.
    }
  }
}

/** The longest answerMargin: ZoPay answers well within a second when it answers at all. */
const MAX_ANSWER_MARGIN_MS = 1_000;

/** The shared rate budget refused an attempt: nothing was sent, and the call ends with its error. */
class BudgetRefusal {
  constructor(readonly error: unknown) {}
}

function errorCodeOf(err: unknown): string {
  return err instanceof ZoPayError ? err.code : 'UNEXPECTED';
}
