/**
 * A simulated caller: quote → execute with retries under the SAME idempotency key (switching instances on
 * errors, honouring retryAfter), sometimes sending the same execute to both instances at once, sometimes
 * replaying a finished key on the other instance, reading its payout (and someone else's), and starting
 * mid-flight payoutStatus subscribers. Everything it is told is recorded for the invariant checks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EXECUTE, PAYOUT, QUOTE, errorCode, retryAfterOf, type GraphQLHttp } from './gql.js';
import type { ExecObservation, KeyRecord, PayoutPlan, ReadRecord, RunRecords, SubscriberRecord } from './model.js';
import type { Rng } from './rng.js';
import { runSubscriber, type SubscriberContext } from './subscriber.js';

export interface ClientContext {
  http: GraphQLHttp;
  instances: readonly { name: string; url: string }[];
  tokenOf(sub: string): string;
  watcherToken: string;
  /** A write-only caller other than `sub`, for the foreign-read check. */
  foreignSubOf(sub: string): string;
  records: RunRecords;
  subscriberContext: SubscriberContext;
  /** Subscriber tasks still running. */
  subscriberTasks: Set<Promise<void>>;
  /** Called when a payout starts (drives the progress-based fault schedule). */
  onStart(plan: PayoutPlan): void;
  /** Hard stop of the load phase. */
  stop: AbortSignal;
}

/** Per-operation retry budget of a client (the gateway's own deadlines are far shorter). */
const EXECUTE_BUDGET_MS = 150_000;
const EXECUTE_MAX_ATTEMPTS = 80;
const QUOTE_BUDGET_MS = 120_000;
const REQUEST_TIMEOUT_MS = 30_000;

const FINAL = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

export async function runClient(ctx: ClientContext, plans: readonly PayoutPlan[], rng: Rng): Promise<void> {
  for (const plan of plans) {
    if (ctx.stop.aborted) return;
    await runPayout(ctx, plan, rng);
  }
}

async function runPayout(ctx: ClientContext, plan: PayoutPlan, rng: Rng): Promise<void> {
  ctx.onStart(plan);
  const rec: KeyRecord = {
    plan,
    quoteId: undefined,
    quoteAttempts: 0,
    observations: [],
    outcome: 'pending',
    instancesUsed: new Set(),
    startedAt: Date.now(),
    finishedAt: undefined,
  };
  ctx.records.keys[plan.index] = rec;
  rec.quoteId = await createQuote(ctx, rec, rng);
  if (rec.quoteId === undefined) {
    rec.outcome = 'no-quote';
    rec.finishedAt = Date.now();
    return;
  }
  let results: ExecEnd[];
  if (plan.concurrentDuplicate) {
    ctx.records.actions.add('concurrent duplicate execute on both instances');
    results = await Promise.all([executeLoop(ctx, rec, 0, rng), executeLoop(ctx, rec, 1, rng)]);
  } else {
    results = [await executeLoop(ctx, rec, plan.firstInstance, rng)];
  }
  rec.outcome = results.includes('payout') ? 'payout' : results.includes('rejected') ? 'rejected' : 'unresolved';
  if (rec.instancesUsed.size > 1) ctx.records.actions.add('execute retried with the same key on both instances');
  const payout = rec.observations.find((o): o is Extract<ExecObservation, { kind: 'payout' }> => o.kind === 'payout');
  if (payout) {
    for (const sp of plan.subscribers) startSubscriber(ctx, rec, payout.id, sp, rng);
    if (plan.replay && !ctx.stop.aborted) {
      ctx.records.actions.add('replay of a finished key on the other instance');
      const last = [...rec.observations].reverse().find((o) => o.kind === 'payout');
      await executeLoop(ctx, rec, 1 - (last?.instance ?? 0), rng);
    }
    if (plan.ownRead) await readPayout(ctx, rec, payout.id, plan.sub, false, 'load', rng);
    if (plan.foreignRead) await readPayout(ctx, rec, payout.id, ctx.foreignSubOf(plan.sub), true, 'load', rng);
  }
  rec.finishedAt = Date.now();
}

function startSubscriber(ctx: ClientContext, rec: KeyRecord, payoutId: string, sp: PayoutPlan['subscribers'][number], rng: Rng): void {
  const sub: SubscriberRecord = {
    payoutId,
    keyIndex: rec.plan.index,
    sub: sp.asWatcher ? 'chaos-backoffice' : rec.plan.sub,
    asWatcher: sp.asWatcher,
    plan: sp,
    attempts: [],
    events: [],
    done: 'pending',
    finishedAt: undefined,
  };
  ctx.records.subscribers.push(sub);
  ctx.records.actions.add(`mid-flight subscription (${sp.transport})`);
  const token = sp.asWatcher ? ctx.watcherToken : ctx.tokenOf(rec.plan.sub);
  const task = (async () => {
    await sleep(sp.delayMs);
    await runSubscriber(ctx.subscriberContext, sub, token, rng.fork(`sub-${payoutId}-${ctx.records.subscribers.length}`));
  })().catch((err: unknown) => {
    ctx.records.harnessErrors.push(`subscriber ${payoutId}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  });
  ctx.subscriberTasks.add(task);
  void task.finally(() => ctx.subscriberTasks.delete(task));
}

/**
 * When each instance may be tried again: a `retryAfter` from a circuit-open instance is honoured for
 * that instance, while the other one (reached through the load balancer) may be tried sooner.
 */
class InstanceGate {
  private readonly notBefore = [0, 0];
  constructor(public instance: number) {}
  /** Waits until the current or the other instance may be tried, and picks it. */
  async next(signal: AbortSignal): Promise<number> {
    const now = Date.now();
    const here = this.notBefore[this.instance] ?? 0;
    const there = this.notBefore[1 - this.instance] ?? 0;
    if (here > now) {
      if (there <= now) this.instance = 1 - this.instance;
      else {
        await sleepUnless(Math.min(here, there) - now, signal);
        if (there < here) this.instance = 1 - this.instance;
      }
    }
    return this.instance;
  }
  hold(instance: number, ms: number): void {
    this.notBefore[instance] = Date.now() + ms;
  }
  switch(): void {
    this.instance = 1 - this.instance;
  }
}

async function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

function backoff(attempt: number, rng: Rng): number {
  const ceiling = Math.min(3_000, 150 * 2 ** Math.min(attempt, 5));
  return Math.max(50, Math.floor(rng.next() * ceiling));
}

async function createQuote(ctx: ClientContext, rec: KeyRecord, rng: Rng): Promise<string | undefined> {
  const { plan } = rec;
  const token = ctx.tokenOf(plan.sub);
  const gate = new InstanceGate(plan.firstInstance);
  const end = Date.now() + QUOTE_BUDGET_MS;
  for (let attempt = 1; Date.now() < end && !ctx.stop.aborted; attempt++) {
    rec.quoteAttempts = attempt;
    const instance = await gate.next(ctx.stop);
    const url = (ctx.instances[instance] as { url: string }).url;
    const r = await ctx.http.post(
      url,
      QUOTE,
      { input: { gateway: plan.gateway, amount: plan.amount, currency: 'XAF', recipient: { msisdn: plan.msisdn } } },
      token,
      REQUEST_TIMEOUT_MS,
    );
    const wait = backoff(attempt, rng);
    if (r.kind === 'transport') {
      ctx.records.retries.add(`quote: ${r.reason}`);
      gate.switch();
    } else {
      const q = r.data?.['createQuote'] as { __typename?: string; id?: string; code?: string } | null | undefined;
      if (q?.__typename === 'Quote' && typeof q.id === 'string') return q.id;
      if (q?.code) {
        ctx.records.harnessErrors.push(`quote for ${plan.msisdn} rejected with ${q.code}`);
        return undefined;
      }
      const first = r.errors[0];
      const code = first ? errorCode(first) : 'NO_DATA';
      const ra = first ? retryAfterOf(first) : undefined;
      const circuit = code === 'UPSTREAM_UNAVAILABLE' && ra !== undefined ? ' (circuit open)' : '';
      ctx.records.retries.add(`quote: ${code}${circuit}`);
      if (code === 'INTERNAL_SERVER_ERROR') ctx.records.masked.push({ at: Date.now(), where: `createQuote on gw${instance}` });
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') {
        ctx.records.harnessErrors.push(`quote answered ${code}: ${first?.message ?? ''}`);
        return undefined;
      }
      holdAfter(gate, instance, code, ra);
      if (rng.chance(0.5)) gate.switch();
    }
    await sleepUnless(wait, ctx.stop);
  }
  return undefined;
}

/** retryAfter of a circuit-open instance holds that instance; a rate limit (shared budget) holds both. */
function holdAfter(gate: InstanceGate, instance: number, code: string, retryAfter: number | undefined): void {
  if (retryAfter === undefined) return;
  const ms = Math.min(retryAfter, 35) * 1000;
  gate.hold(instance, ms);
  if (code === 'RATE_LIMITED') gate.hold(1 - instance, ms);
}

type ExecEnd = 'payout' | 'rejected' | 'unresolved';

/** Executes rec's key until a payout or a definitive business error; every answer is recorded. */
async function executeLoop(ctx: ClientContext, rec: KeyRecord, firstInstance: number, rng: Rng): Promise<ExecEnd> {
  const { plan } = rec;
  const token = ctx.tokenOf(plan.sub);
  const gate = new InstanceGate(firstInstance);
  const end = Date.now() + EXECUTE_BUDGET_MS;
  const input = { quoteId: rec.quoteId, idempotencyKey: plan.key, recipient: { msisdn: plan.msisdn } };
  for (let attempt = 1; attempt <= EXECUTE_MAX_ATTEMPTS && Date.now() < end; attempt++) {
    if (attempt > 1) ctx.records.actions.add('execute retried with the same key');
    const instance = await gate.next(ctx.stop);
    rec.instancesUsed.add(instance);
    const url = (ctx.instances[instance] as { url: string }).url;
    const r = await ctx.http.post(url, EXECUTE, { input }, token, REQUEST_TIMEOUT_MS);
    const at = Date.now();
    let wait = backoff(attempt, rng);
    if (r.kind === 'transport') {
      rec.observations.push({ at, instance, kind: 'retry', reason: r.reason });
      ctx.records.retries.add(`execute: ${r.reason}${r.status ? ` ${r.status}` : ''}`);
      gate.switch();
      await sleepUnless(wait, ctx.stop);
      continue;
    }
    const result = r.data?.['executeDisbursement'] as
      | { __typename?: string; id?: string; status?: string; code?: string; retryAfter?: number }
      | null
      | undefined;
    if (result?.__typename === 'Payout' && typeof result.id === 'string') {
      rec.observations.push({ at, instance, kind: 'payout', id: result.id, status: String(result.status) });
      return 'payout';
    }
    if (result?.__typename === 'IdempotencyKeyInProgressError') {
      rec.observations.push({ at, instance, kind: 'retry', reason: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
      ctx.records.retries.add('execute: IDEMPOTENCY_KEY_IN_PROGRESS');
      // The key is busy wherever we ask: honour retryAfter whatever the instance.
      wait = Math.max(wait, Math.min(5, result.retryAfter ?? 1) * 1000);
      if (rng.chance(0.5)) gate.switch();
      await sleepUnless(wait, ctx.stop);
      continue;
    }
    if (result?.code) {
      rec.observations.push({ at, instance, kind: 'business', code: result.code });
      return 'rejected';
    }
    const first = r.errors[0];
    const code = first ? errorCode(first) : 'NO_DATA';
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') {
      rec.observations.push({ at, instance, kind: 'harness', detail: `${code}: ${first?.message ?? ''}` });
      ctx.records.harnessErrors.push(`execute ${plan.key} answered ${code}: ${first?.message ?? ''}`);
      return 'rejected';
    }
    if (code === 'INTERNAL_SERVER_ERROR') ctx.records.masked.push({ at, where: `executeDisbursement ${plan.sub}/${plan.key} on gw${instance}` });
    const ra = first ? retryAfterOf(first) : undefined;
    const unknown =
      first?.extensions?.outcomeUnknown === true ? ' (outcomeUnknown)' : code === 'UPSTREAM_UNAVAILABLE' && ra !== undefined ? ' (circuit open)' : '';
    rec.observations.push({ at, instance, kind: 'retry', reason: `${code}${unknown}` });
    ctx.records.retries.add(`execute: ${code}${unknown}`);
    holdAfter(gate, instance, code, ra);
    if (rng.chance(0.5)) gate.switch();
    await sleepUnless(wait, ctx.stop);
  }
  return 'unresolved';
}

/** payout(id) with a few retries on transport or infrastructure errors. */
export async function readPayout(
  ctx: Pick<ClientContext, 'http' | 'instances' | 'tokenOf' | 'records'>,
  rec: KeyRecord,
  payoutId: string,
  sub: string,
  foreign: boolean,
  phase: ReadRecord['phase'],
  rng: Rng,
): Promise<void> {
  let instance = rng.int(0, 1);
  const token = ctx.tokenOf(sub);
  let detail = '';
  for (let attempt = 1; attempt <= 8; attempt++) {
    const r = await ctx.http.post((ctx.instances[instance] as { url: string }).url, PAYOUT, { id: payoutId }, token, REQUEST_TIMEOUT_MS);
    if (r.kind === 'data' && r.errors.length === 0) {
      const p = r.data?.['payout'] as { id?: string; status?: string } | null | undefined;
      ctx.records.reads.push({
        payoutId,
        keyIndex: rec.plan.index,
        sub,
        foreign,
        phase,
        instance,
        result: p ? 'payout' : 'null',
        status: p?.status,
        id: p?.id,
        detail: undefined,
      });
      return;
    }
    detail = r.kind === 'transport' ? r.reason : r.errors.map(errorCode).join(',');
    ctx.records.retries.add(`read: ${detail}`);
    if (detail.includes('INTERNAL_SERVER_ERROR')) ctx.records.masked.push({ at: Date.now(), where: `payout(id) by ${sub} on gw${instance}` });
    instance = 1 - instance;
    await sleep(backoff(attempt, rng));
  }
  ctx.records.reads.push({ payoutId, keyIndex: rec.plan.index, sub, foreign, phase, instance, result: 'error', status: undefined, id: undefined, detail });
}

export function isFinalStatus(s: string | undefined): boolean {
  return s !== undefined && FINAL.has(s);
}
