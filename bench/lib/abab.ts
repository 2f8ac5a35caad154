/**
 * Alternating rounds: baseline, candidate, baseline, candidate… each with its own warm-up, so slow drift
 * of the machine (thermal, other tenants) hits both sides alike. A scenario with reference sides (the
 * execute floors) runs them in every round too, after the two and in turns: baseline, candidate, A, B,
 * baseline, candidate, B, A…
 * Every failed request of a warm-up or a measured run becomes a Problem (the run then exits non-zero).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext, Side } from './context.js';
import { failedCount, type RunResult } from './load.js';
import { mean } from './stats.js';

export type Phase = 'warmup' | 'measure';

const SETTLE_MS = 500;

export interface RoundSample<T extends RunResult, S extends string = Side> {
  side: S;
  round: number;
  result: T;
}

export type SideRunner<T extends RunResult> = (phase: Phase, round: number) => Promise<T>;

export function fmtRun(r: RunResult): string {
  const lat = `p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms`;
  const failed = failedCount(r);
  const unsent = r.unsent ? `, ${r.unsent} not sent (overloaded)` : '';
  return `${Math.round(r.rps).toLocaleString('en-US')} ok/s, ${lat}${unsent}${failed ? `, ${failed} FAILED` : ''}`;
}

export function noteFailures(ctx: BenchContext, scenario: string, side: string, phase: Phase, round: number, r: RunResult): void {
  const failed = failedCount(r);
  if (failed === 0) return;
  const parts = [
    r.errors ? `${r.errors} errors/timeouts` : '',
    r.non2xx ? `${r.non2xx} non-2xx` : '',
    r.badBodies ? `${r.badBodies} wrong 2xx answers` : '',
  ].filter(Boolean);
  ctx.problems.push({
    scenario,
    side,
    phase,
    round,
    message: `${parts.join(', ')}; status codes ${JSON.stringify(r.statusCodes)}`,
    ...(r.firstFailure ? { sample: r.firstFailure } : {}),
  });
}

export async function abab<T extends RunResult, S extends string = Side>(
  ctx: BenchContext,
  scenario: string,
  runners: Record<Side, SideRunner<T>> & Record<S, SideRunner<T>>,
): Promise<RoundSample<T, Side | S>[]> {
  const samples: RoundSample<T, Side | S>[] = [];
  // Baseline and candidate first, then the reference sides, their order rotated each round so that no
  // reference always runs right after the candidate.
  const references = Object.keys(runners).filter((k) => k !== 'baseline' && k !== 'candidate') as S[];
  for (let round = 1; round <= ctx.options.rounds; round++) {
    const shift = (round - 1) % Math.max(1, references.length);
    const order: (Side | S)[] = ['baseline', 'candidate', ...references.slice(shift), ...references.slice(0, shift)];
    for (const side of order) {
      if (ctx.options.warmupS > 0) {
        const warm = await runners[side]('warmup', round);
        noteFailures(ctx, scenario, side, 'warmup', round, warm);
      }
      // Let sockets close and collectors run before anything is measured.
      await sleep(SETTLE_MS);
      const result = await runners[side]('measure', round);
      noteFailures(ctx, scenario, side, 'measure', round, result);
      ctx.log(`  ${scenario.padEnd(9)} ${side.padEnd(9)} round ${round}: ${fmtRun(result)}`);
      samples.push({ side, round, result });
    }
  }
  return samples;
}

export function results<T extends RunResult, S extends string>(samples: readonly RoundSample<T, S>[], side: S): T[] {
  return samples.filter((s) => s.side === side).map((s) => s.result);
}

/** Mean over the measured rounds of one side. */
export function sideMean<T extends RunResult, S extends string>(samples: readonly RoundSample<T, S>[], side: S, pick: (r: T) => number): number {
  return mean(samples.filter((s) => s.side === side).map((s) => pick(s.result)));
}

/** "min–max" of one side, for the notes. */
export function sideSpread<T extends RunResult, S extends string>(samples: readonly RoundSample<T, S>[], side: S, pick: (r: T) => number, digits = 0): string {
  const v = samples.filter((s) => s.side === side).map((s) => pick(s.result));
  return `${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)}`;
}
