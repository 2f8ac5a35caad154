/**
 * (1) executeDisbursement throughput at N connections (closed loop) vs the bare baseline. Target ≥ 0.60×.
 *
 * Each round also runs the two floors (floors.ts: stock Yoga, and a hand-written graphql-js handler, each
 * doing the baseline's upstream work and nothing else) under the same load. They are reference rows: how
 * much of the baseline's throughput a GraphQL layer keeps on this machine before any of the gateway's own
 * work (auth, rate limits, idempotency, quote check, records, all in Redis).
 */
import os from 'node:os';
import { abab, results, sideMean, sideSpread, type RoundSample } from '../lib/abab.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerRequest, machineLoad, withCpu, type CpuRun } from '../lib/cpu.js';
import { closedLoop, type LoadSpec } from '../lib/load.js';
import { commandStats, perUnit } from '../lib/redis-stats.js';
import { fmtInt, fmtMs, type ScenarioRow } from '../lib/report.js';
import { FLOOR_TITLES, FLOORS, floorRunners, floorSide, type Floor } from '../lib/floor-kinds.js';
import { prepareExecuteLoad } from './execute-load.js';

export const THROUGHPUT_TARGET = 0.6;

export async function executeThroughput(ctx: BenchContext): Promise<ScenarioRow[]> {
  const { connections, warmupS, durationS } = ctx.options;
  const { specs } = await prepareExecuteLoad(ctx, 'execute');
  const floors = ctx.floors;
  // Every process on every side: CPU burnt by an idle side (leftover work, GC) shows up too.
  const all = [ctx.gateway, ctx.baseline, ctx.redis, ctx.stub, ...(floors ? FLOORS.map((f) => floors[f]) : [])];
  let warmupAnswers = 0;
  const run = (spec: LoadSpec) => async (phase: 'warmup' | 'measure') => {
    const r = await withCpu(all, () => closedLoop(spec, { connections, durationS: phase === 'warmup' ? warmupS : durationS }));
    if (phase === 'warmup' && spec === specs.candidate) warmupAnswers += r.ok;
    return r;
  };
  // Only the candidate talks to Redis during the rounds (the quotes were created before the snapshot).
  const redisBefore = await commandStats(ctx.redisClient);
  const samples = await abab(ctx, 'execute', { baseline: run(specs.baseline), candidate: run(specs.candidate), ...floorRunners(floors, specs.candidate, run) });
  const redisAfter = await commandStats(ctx.redisClient);
  // Warm-ups count in Redis' figures but not in `ok`: divide by every answer of the candidate's runs. The
  // requests still in flight when a run stops (at most one per connection) reach Redis without being
  // counted, so the figures read high by at most connections / answers per run (well under 1 %).
  const candidateAnswers = results(samples, 'candidate').reduce((n, r) => n + r.ok, 0) + warmupAnswers;

  const base = sideMean(samples, 'baseline', (r) => r.rps);
  const cand = sideMean(samples, 'candidate', (r) => r.rps);
  const ratio = cand / base;
  const lat = (side: string, p: 'p50' | 'p99') => sideMean(samples, side, (r) => r.latency[p]);
  const latency = (side: string) => `${fmtMs(lat('baseline', 'p50'))} / ${fmtMs(lat('baseline', 'p99'))} → ${fmtMs(lat(side, 'p50'))} / ${fmtMs(lat(side, 'p99'))}`;
  const floorRatios = floors ? FLOORS.map((f) => `${f} floor ${(sideMean(samples, floorSide(f), (r) => r.rps) / base).toFixed(2)}×`) : [];
  const row: ScenarioRow = {
    id: 'execute',
    title: `executeDisbursement throughput, ${connections} connections (req/s)`,
    baseline: fmtInt(base),
    candidate: fmtInt(cand),
    ratio: `${ratio.toFixed(2)}×`,
    latency: latency('candidate'),
    target: `≥ ${THROUGHPUT_TARGET.toFixed(2)}×`,
    pass: ratio >= THROUGHPUT_TARGET,
    values: { baselineRps: base, candidateRps: cand, ratio, baselineP99Ms: lat('baseline', 'p99'), candidateP99Ms: lat('candidate', 'p99') },
    notes: [
      `rounds: baseline ${sideSpread(samples, 'baseline', (r) => r.rps)} req/s, candidate ${sideSpread(samples, 'candidate', (r) => r.rps)} req/s`,
      `CPU ms per request: baseline run (${cpuPerRequest(results(samples, 'baseline'))}), candidate run (${cpuPerRequest(results(samples, 'candidate'))})`,
      `the whole machine (${os.cpus().length} cores, every process and the kernel): baseline run ${machineLoad(results(samples, 'baseline'))}; candidate run ${machineLoad(results(samples, 'candidate'))}${floors ? FLOORS.map((f) => `; ${f} floor run ${machineLoad(results(samples, floorSide(f)))}`).join('') : ''}`,
      `Redis per candidate request (INFO commandstats): ${perUnit(redisBefore, redisAfter, candidateAnswers)}`,
      ...(floorRatios.length > 0 ? [`same rounds, same load: ${floorRatios.join(', ')} of the baseline (reference rows below)`] : []),
    ],
    rounds: samples.filter((s) => s.side === 'baseline' || s.side === 'candidate'),
  };
  return [row, ...(floors ? FLOORS.map((f) => floorRow(f, samples, base, latency(floorSide(f)))) : [])];
}

function floorRow(floor: Floor, samples: readonly RoundSample<CpuRun, string>[], base: number, latency: string): ScenarioRow {
  const side = floorSide(floor);
  const rps = sideMean(samples, side, (r) => r.rps);
  return {
    id: `execute:${side}`,
    title: FLOOR_TITLES[floor],
    baseline: fmtInt(base),
    candidate: fmtInt(rps),
    ratio: `${(rps / base).toFixed(2)}×`,
    latency,
    target: '—',
    pass: true,
    reference: true,
    values: { baselineRps: base, floorRps: rps, ratio: rps / base },
    notes: [`rounds: ${sideSpread(samples, side, (r) => r.rps)} req/s; CPU ms per request: ${cpuPerRequest(results(samples, side))}; the whole machine: ${machineLoad(results(samples, side))}`],
    rounds: samples.filter((s) => s.side === side),
  };
}
