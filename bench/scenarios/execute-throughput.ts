/** (1) executeDisbursement throughput at N connections (closed loop) vs the bare baseline. Target ≥ 0.60×. */
import { abab, results, sideMean, sideSpread } from '../lib/abab.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerRequest, withCpu } from '../lib/cpu.js';
import { closedLoop } from '../lib/load.js';
import { fmtInt, fmtMs, type ScenarioRow } from '../lib/report.js';
import { prepareExecuteLoad } from './execute-load.js';

export const THROUGHPUT_TARGET = 0.6;

export async function executeThroughput(ctx: BenchContext): Promise<ScenarioRow> {
  const { connections, warmupS, durationS } = ctx.options;
  const { specs } = await prepareExecuteLoad(ctx, 'execute');
  // Every process on both sides: CPU burnt by the idle side (leftover work, GC) shows up too.
  const all = [ctx.gateway, ctx.baseline, ctx.redis, ctx.stub];
  const watched = { baseline: all, candidate: all };
  const run = (side: 'baseline' | 'candidate') => (phase: 'warmup' | 'measure') =>
    withCpu(watched[side], () => closedLoop(specs[side], { connections, durationS: phase === 'warmup' ? warmupS : durationS }));
  const samples = await abab(ctx, 'execute', { baseline: run('baseline'), candidate: run('candidate') });

  const base = sideMean(samples, 'baseline', (r) => r.rps);
  const cand = sideMean(samples, 'candidate', (r) => r.rps);
  const ratio = cand / base;
  const lat = (side: 'baseline' | 'candidate', p: 'p50' | 'p99') => sideMean(samples, side, (r) => r.latency[p]);
  return {
    id: 'execute',
    title: `executeDisbursement throughput, ${connections} connections (req/s)`,
    baseline: fmtInt(base),
    candidate: fmtInt(cand),
    ratio: `${ratio.toFixed(2)}×`,
    latency: `${fmtMs(lat('baseline', 'p50'))} / ${fmtMs(lat('baseline', 'p99'))} → ${fmtMs(lat('candidate', 'p50'))} / ${fmtMs(lat('candidate', 'p99'))}`,
    target: `≥ ${THROUGHPUT_TARGET.toFixed(2)}×`,
    pass: ratio >= THROUGHPUT_TARGET,
    values: { baselineRps: base, candidateRps: cand, ratio, baselineP99Ms: lat('baseline', 'p99'), candidateP99Ms: lat('candidate', 'p99') },
    notes: [
      `rounds: baseline ${sideSpread(samples, 'baseline', (r) => r.rps)} req/s, candidate ${sideSpread(samples, 'candidate', (r) => r.rps)} req/s`,
      `CPU ms per request: baseline run (${cpuPerRequest(results(samples, 'baseline'))}), candidate run (${cpuPerRequest(results(samples, 'candidate'))})`,
    ],
    rounds: samples,
  };
}
