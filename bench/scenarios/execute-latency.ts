/**
 * (2) Added p99 of executeDisbursement at a fixed offered rate (open loop, uniform arrivals, latency from
 * each request's due time) vs the bare baseline at the same rate. Target: candidate p99 − baseline p99
 * ≤ 3 ms, with the offered rate actually sustained (every request sent on time and answered).
 *
 * Each round also offers the same rate to the two floors (floors.ts, as in the throughput scenario): their
 * added p99 is a reference row, what a GraphQL layer alone adds at this rate on this machine.
 */
import { abab, results, sideMean, sideSpread, type RoundSample } from '../lib/abab.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerRequest, machineLoad, withCpu, type CpuRun } from '../lib/cpu.js';
import { failedCount, openLoop, type LoadSpec, type RunResult } from '../lib/load.js';
import { FLOOR_TITLES, FLOORS, floorRunners, floorSide, type Floor } from '../lib/floor-kinds.js';
import { fmtDeltaMs, fmtInt, fmtMs, type ScenarioRow } from '../lib/report.js';
import { prepareExecuteLoad } from './execute-load.js';

export const ADDED_P99_TARGET_MS = 3;
const SUSTAINED_SHARE = 0.95;
/** Beyond this many requests in flight the server is hopelessly behind: stop adding to its queue. */
const MAX_OUTSTANDING = 1_000;

export async function executeLatency(ctx: BenchContext): Promise<ScenarioRow[]> {
  const { ratePerS, warmupS, durationS } = ctx.options;
  const { specs } = await prepareExecuteLoad(ctx, 'latency');
  const floors = ctx.floors;
  // Every process on every side: CPU burnt by an idle side (leftover work, GC) shows up too.
  const all = [ctx.gateway, ctx.baseline, ctx.redis, ctx.stub, ...(floors ? FLOORS.map((f) => floors[f]) : [])];
  const run = (spec: LoadSpec) => (phase: 'warmup' | 'measure') =>
    withCpu(all, () => openLoop(spec, { ratePerS, durationS: phase === 'warmup' ? warmupS : durationS, maxOutstanding: MAX_OUTSTANDING }));
  const samples = await abab(ctx, 'latency', { baseline: run(specs.baseline), candidate: run(specs.candidate), ...floorRunners(floors, specs.candidate, run) });

  const p = (side: string, q: 'p50' | 'p99') => sideMean(samples, side, (r) => r.latency[q]);
  const added = p('candidate', 'p99') - p('baseline', 'p99');
  const achieved = sideMean(samples, 'candidate', (r) => r.rps);
  // Answers per second over the whole run (the drain after the last send included): a server that keeps
  // up answers within a few ms of the schedule, one that does not falls ever further behind.
  const keptUp = (r: RunResult) => failedCount(r) === 0 && !r.unsent && r.rps >= SUSTAINED_SHARE * ratePerS;
  const sustained = results(samples, 'candidate').every(keptUp);
  const p99s = (side: string) => sideSpread(samples, side, (r) => r.latency.p99, 2);
  const notes = [
    `rounds p99: baseline ${p99s('baseline')} ms, candidate ${p99s('candidate')} ms`,
    `candidate answered ${fmtInt(achieved)} req/s of ${fmtInt(ratePerS)} offered`,
    `CPU ms per request: baseline run (${cpuPerRequest(results(samples, 'baseline'))}), candidate run (${cpuPerRequest(results(samples, 'candidate'))})`,
    `the whole machine: baseline run ${machineLoad(results(samples, 'baseline'))}; candidate run ${machineLoad(results(samples, 'candidate'))}`,
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
  const floorAdded = floors ? FLOORS.map((f) => `${f} floor ${fmtDeltaMs(p(floorSide(f), 'p99') - p('baseline', 'p99'))} ms`) : [];
  if (floorAdded.length > 0) notes.push(`same rounds, same rate: ${floorAdded.join(', ')} (reference rows below)`);
  const row: ScenarioRow = {
    id: 'latency',
    title: `executeDisbursement p99 at ${fmtInt(ratePerS)} req/s offered (ms)`,
    baseline: fmtMs(p('baseline', 'p99')),
    candidate: fmtMs(p('candidate', 'p99')),
    ratio: `${fmtDeltaMs(added)} ms`,
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
    rounds: samples.filter((s) => s.side === 'baseline' || s.side === 'candidate'),
  };
  const latency = (side: string) => `${fmtMs(p('baseline', 'p50'))} / ${fmtMs(p('baseline', 'p99'))} → ${fmtMs(p(side, 'p50'))} / ${fmtMs(p(side, 'p99'))}`;
  return [row, ...(floors ? FLOORS.map((f) => floorRow(f, samples, ratePerS, p('baseline', 'p99'), latency(floorSide(f)), keptUp)) : [])];
}

function floorRow(
  floor: Floor,
  samples: readonly RoundSample<CpuRun, string>[],
  ratePerS: number,
  baselineP99: number,
  latency: string,
  keptUp: (r: RunResult) => boolean,
): ScenarioRow {
  const side = floorSide(floor);
  const p99 = sideMean(samples, side, (r) => r.latency.p99);
  const behind = results(samples, side).filter((r) => !keptUp(r)).length;
  return {
    id: `latency:${side}`,
    title: `${FLOOR_TITLES[floor]}, p99 at ${fmtInt(ratePerS)} req/s offered (ms)`,
    baseline: fmtMs(baselineP99),
    candidate: fmtMs(p99),
    ratio: `${fmtDeltaMs(p99 - baselineP99)} ms`,
    latency,
    target: '—',
    pass: true,
    reference: true,
    values: { offeredRps: ratePerS, baselineP99Ms: baselineP99, floorP99Ms: p99, addedP99Ms: p99 - baselineP99, floorAnsweredRps: sideMean(samples, side, (r) => r.rps) },
    notes: [
      `rounds p99: ${sideSpread(samples, side, (r) => r.latency.p99, 2)} ms; answered ${fmtInt(sideMean(samples, side, (r) => r.rps))} req/s of ${fmtInt(ratePerS)} offered; CPU ms per request: ${cpuPerRequest(results(samples, side))}; the whole machine: ${machineLoad(results(samples, side))}`,
      ...(behind > 0 ? [`fell behind the offered rate in ${behind} round(s)`] : []),
    ],
    rounds: samples.filter((s) => s.side === side),
  };
}
