/**
 * (3) Verified webhooks per second per core. Signed `payout.completed` deliveries, each with a new
 * delivery id, for payouts the gateway already holds as PROCESSING, so each one takes the whole hot path:
 * verify → dedupe + apply (advances to SUCCESS) + publish, in one Redis script → 200. The PROCESSING
 * records are written into Redis before each run through the gateway's own store code (what
 * executeDisbursement leaves behind), sized from the rate seen so far; PUBLISH calls counted by Redis
 * (INFO commandstats counts those a script makes) confirm that every delivery published.
 * "Per core" = answered deliveries per CPU-second of the gateway process (from /proc), so a machine with
 * few cores shared with the load generator still gives a per-core figure. Baseline: a bare node:http
 * server that only verifies the HMAC (baseline.ts), per CPU-second of its process.
 */
import { abab, results, sideMean, sideSpread, type Phase } from '../lib/abab.js';
import { cpuPerRequest, withCpu, type CpuRun } from '../lib/cpu.js';
import type { BenchContext, Side } from '../lib/context.js';
import { closedLoop, type LoadSpec } from '../lib/load.js';
import { fmtInt, fmtMs, type ScenarioRow } from '../lib/report.js';
import type { ChildHandle } from '../lib/processes.js';
import { seedProcessing } from '../lib/seed.js';
import { completedDelivery } from '../lib/webhook.js';
import { BASELINE_PATHS } from '../baseline.js';

export const WEBHOOKS_PER_CORE_TARGET = 10_000;

interface WebhookRun extends CpuRun {
  publishes: number;
  /** Deliveries sent for a payout that an earlier delivery of this run had already completed. */
  beyondPool: number;
}

async function publishCalls(ctx: BenchContext): Promise<number> {
  const info = await ctx.redisClient.info('commandstats');
  const m = /cmdstat_publish:calls=(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

export async function webhooks(ctx: BenchContext): Promise<ScenarioRow> {
  const { connections, warmupS, durationS, quick } = ctx.options;
  let payoutSeq = 0;
  let deliverySeq = 0;
  let rateGuess = quick ? 3_000 : 6_000;

  async function seed(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => `${ctx.runTag}-po-${payoutSeq++}`);
    await seedProcessing(ctx, ids);
    return ids;
  }

  function spec(origin: string, path: string, pool: readonly string[]): LoadSpec & { used(): number } {
    let i = 0;
    return {
      origin,
      path,
      headers: {},
      used: () => i,
      build: () => {
        const payoutId = pool[i++ % pool.length] as string;
        const { body, headers } = completedDelivery(ctx.secrets.webhookSecret, payoutId, `${ctx.runTag}-dlv-${deliverySeq++}`);
        return { body, headers };
      },
      check: (body) => (body.includes('"accepted"') ? undefined : `expected {"status":"accepted"}, got ${body.slice(0, 200)}`),
    };
  }

  type Spec = LoadSpec & { used(): number };
  const measured = async (target: ChildHandle, s: Spec, poolSize: number, seconds: number): Promise<WebhookRun> => {
    const pub0 = await publishCalls(ctx);
    const r = await withCpu([target, ctx.redis], () => closedLoop(s, { connections, durationS: seconds }));
    return { ...r, publishes: (await publishCalls(ctx)) - pub0, beyondPool: Math.max(0, s.used() - poolSize) };
  };

  const runners: Record<Side, (phase: Phase) => Promise<WebhookRun>> = {
    baseline: (phase) => {
      const pool = Array.from({ length: 1_000 }, (_, n) => `${ctx.runTag}-base-${n}`);
      const seconds = phase === 'warmup' ? warmupS : durationS;
      return measured(ctx.baseline, spec(ctx.baseline.url, BASELINE_PATHS.webhook, pool), Infinity, seconds);
    },
    candidate: async (phase) => {
      const seconds = phase === 'warmup' ? warmupS : durationS;
      // autocannon stops on its next 1 s tick: size for one extra second, with 50 % headroom.
      const pool = await seed(Math.ceil(rateGuess * (seconds + 1) * 1.5));
      const r = await measured(ctx.gateway, spec(ctx.gateway.url, '/webhooks/zopay', pool), pool.length, seconds);
      rateGuess = Math.max(rateGuess, r.rps);
      return r;
    },
  };
  const samples = await abab(ctx, 'webhooks', runners);

  const perCoreOf = (name: string) => (r: WebhookRun) => {
    const cpu = r.cpuS[name];
    return cpu ? r.ok / cpu : r.rps;
  };
  const withRedis = (r: WebhookRun) => r.ok / ((r.cpuS['gateway'] ?? Number.NaN) + (r.cpuS['redis'] ?? Number.NaN));
  const base = sideMean(samples, 'baseline', perCoreOf('baseline'));
  const cand = sideMean(samples, 'candidate', perCoreOf('gateway'));
  const cands = results(samples, 'candidate');
  const published = cands.reduce((a, r) => a + r.publishes, 0);
  const answered = cands.reduce((a, r) => a + r.ok, 0);
  const beyond = cands.reduce((a, r) => a + r.beyondPool, 0);
  const lat = (side: Side, q: 'p50' | 'p99') => sideMean(samples, side, (r) => r.latency[q]);
  const notes = [
    `wall-clock: baseline ${sideSpread(samples, 'baseline', (r) => r.rps)} req/s, candidate ${sideSpread(samples, 'candidate', (r) => r.rps)} req/s`,
    `gateway process ${sideSpread(samples, 'candidate', (r) => (r.cpuS['gateway'] ?? 0) / r.durationS, 2)} cores busy`,
    `CPU ms per delivery: ${cpuPerRequest(results(samples, 'candidate'))}; counting Redis's CPU too: ${fmtInt(sideMean(samples, 'candidate', withRedis))} /s/core`,
    `${fmtInt(published)} PUBLISH for ${fmtInt(answered)} accepted deliveries`,
  ];
  if (cands.some((r) => r.cpuS['gateway'] === undefined)) notes.push('no /proc: per-core figures are wall-clock req/s');
  if (beyond > 0) notes.push(`${fmtInt(beyond)} deliveries went beyond the seeded pool (already-completed payouts, no publish)`);
  // Every accepted delivery for a seeded PROCESSING payout must advance it and publish.
  const allPublished = published >= answered - beyond;
  if (!allPublished) notes.push(`only ${fmtInt(published)} PUBLISH for ${fmtInt(answered - beyond)} deliveries that should each have published`);
  return {
    id: 'webhooks',
    title: 'verified webhooks per second per core (verify + dedupe + apply + publish)',
    baseline: fmtInt(base),
    candidate: fmtInt(cand),
    ratio: `${(cand / base).toFixed(2)}×`,
    latency: `${fmtMs(lat('baseline', 'p50'))} / ${fmtMs(lat('baseline', 'p99'))} → ${fmtMs(lat('candidate', 'p50'))} / ${fmtMs(lat('candidate', 'p99'))}`,
    target: `≥ ${fmtInt(WEBHOOKS_PER_CORE_TARGET)} /s/core`,
    pass: allPublished && cand >= WEBHOOKS_PER_CORE_TARGET,
    values: { baselinePerCore: base, candidatePerCore: cand, published, answered },
    notes,
    rounds: samples,
  };
}
