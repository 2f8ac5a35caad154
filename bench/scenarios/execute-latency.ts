/**
 * (2) Added p99 of executeDisbursement at a fixed offered rate (open loop, uniform arrivals, latency from
 * each request's due time) vs the bare baseline at the same rate. Target: candidate p99 − baseline p99
 * ≤ 3 ms, with the offered rate actually sustained (every request sent on time and answered).
 */
import { abab, results, sideMean, sideSpread } from '../lib/abab.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerRequest, withCpu } from '../lib/cpu.js';
import { failedCount, openLoop, type RunResult } from '../lib/load.js';
import { fmtInt, fmtMs, type ScenarioRow } from '../lib/report.js';
import { prepareExecuteLoad } from './execute-load.js';

export const ADDED_P99_TARGET_MS = 3;
const SUSTAINED_SHARE = 0.95;
/** Beyond this many requests in flight the server is hopelessly behind: stop adding to its queue. */
const MAX_OUTSTANDING = 1_000;

export async function executeLatency(ctx: BenchContext): Promise<ScenarioRow> {
  const { ratePerS, warmupS, durationS } = ctx.options;
  const { specs } = await prepareExecuteLoad(ctx, 'latency');
  // Every process on both sides: CPU burnt by the idle side (leftover work, GC) shows up too.
  const all = [ctx.gateway, ctx.baseline, ctx.redis, ctx.stub];
  const watched = { baseline: all, candidate: all };
  const run = (side: 'baseline' | 'candidate') => (phase: 'warmup' | 'measure') =>
    withCpu(watched[side], () => openLoop(specs[side], { ratePerS, durationS: phase === 'warmup' ? warmupS : durationS, maxOutstanding: MAX_OUTSTANDING }));
  const samples = await abab(ctx, 'latency', { baseline: run('baseline'), candidate: run('candidate') });

  const p = (side: 'baseline' | 'candidate', q: 'p50' | 'p99') => sideMean(samples, side, (r) => r.latency[q]);
  const added = p('candidate', 'p99') - p('baseline', 'p99');
  const achieved = sideMean(samples, 'candidate', (r) => r.rps);
  // Answers per second over the whole run (the drain after the last send included): a server that keeps
  // up answers within a few ms of the schedule, one that does not falls ever further behind.
  const keptUp = (r: RunResult) => failedCount(r) === 0 && !r.unsent && r.rps >= SUSTAINED_SHARE * ratePerS;
  const sustained = results(samples, 'candidate').every(keptUp);
  const p99s = (side: 'baseline' | 'candidate') => sideSpread(samples, side, (r) => r.latency.p99, 2);
  const notes = [
    `rounds p99: baseline ${p99s('baseline')} ms, candidate ${p99s('candidate')} ms`,
    `candidate answered ${fmtInt(achieved)} req/s of ${fmtInt(ratePerS)} offered`,
    `CPU ms per request: baseline run (${cpuPerRequest(results(samples, 'baseline'))}), candidate run (${cpuPerRequest(results(samples, 'candidate'))})`,
  ];
  const baselineBehind = results(samples, 'baseline').filter((r) => !keptUp(r)).length;
  if (baselineBehind > 0) {
    notes.push(`the baseline itself fell behind the offered rate in ${baselineBehind} round(s): the machine was busy, p99s are not trustworthy`);
  }
  const unsent = results(samples, 'candidate').reduce((a, r) => a + (r.unsent ?? 0), 0);
  if (!sustained) {
    notes.push(
      `candidate did not sustain the offered rate (answered < ${SUSTAINED_SHARE * 100} % of it` +
        `${unsent ? `; ${fmtInt(unsent)} requests not sent because ${MAX_OUTSTANDING} were outstanding` : ''})`,
    );
  }
  return {
    id: 'latency',
    title: `executeDisbursement p99 at ${fmtInt(ratePerS)} req/s offered (ms)`,
    baseline: fmtMs(p('baseline', 'p99')),
    candidate: fmtMs(p('candidate', 'p99')),
    ratio: `+${fmtMs(added)} ms`,
    latency: `${fmtMs(p('baseline', 'p50'))} / ${fmtMs(p('baseline', 'p99'))} → ${fmtMs(p('candidate', 'p50'))} / ${fmtMs(p('candidate', 'p99'))}`,
    target: `added p99 ≤ ${ADDED_P99_TARGET_MS} ms`,
    pass: sustained && added <= ADDED_P99_TARGET_MS,
    values: {
      offeredRps: ratePerS,
      baselineP50Ms: p('baseline', 'p50'),
      baselineP99Ms: p('baseline', 'p99'),
      candidateP50Ms: p('candidate', 'p50'),
      candidateP99Ms: p('candidate', 'p99'),
      addedP99Ms: added,
      candidateAnsweredRps: achieved,
    },
    notes,
    rounds: samples,
  };
}
