/** The result table (Markdown, so it can be pasted into bench/README.md as is) and latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Problem } from './context.js';
import type { Environment } from './environment.js';
import type { ScenarioId } from './options.js';

export interface ScenarioRow {
  /** The scenario's id; a reference row adds its side (`execute:yoga-floor`). */
  id: ScenarioId | `${ScenarioId}:${string}`;
  title: string;
  baseline: string;
  candidate: string;
  ratio: string;
  /** "p50 / p99" of baseline → candidate, when the scenario has latencies. */
  latency: string;
  target: string;
  pass: boolean;
  /** A reference row (no target of its own): printed as such and never counted as missed. */
  reference?: boolean;
  /** The numbers behind the row, for latest.json. */
  values: Record<string, number>;
  notes: string[];
  rounds: unknown[];
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtRatio = (r: number): string => (r === Number.POSITIVE_INFINITY ? '∞' : Number.isNaN(r) ? '—' : `${r.toFixed(2)}×`);
export const fmtMs = (n: number): string => (n === Number.POSITIVE_INFINITY ? '∞' : Number.isNaN(n) ? '—' : `${n.toFixed(2)}`);
/** A difference in ms with its sign: +1.25, −0.40. */
export const fmtDeltaMs = (n: number): string => (n < 0 ? `−${fmtMs(-n)}` : `+${fmtMs(n)}`);

export function renderTable(rows: readonly ScenarioRow[]): string {
  const header = ['Scenario', 'Baseline', 'Candidate', 'Ratio', 'p50 / p99 ms (baseline → candidate)', 'Target', 'Result'];
  const lines = [header, header.map(() => '---')];
  for (const r of rows) lines.push([r.title, r.baseline, r.candidate, r.ratio, r.latency, r.target, r.reference ? 'reference' : r.pass ? 'pass' : 'FAIL']);
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function renderNotes(rows: readonly ScenarioRow[]): string {
  return rows
    .filter((r) => r.notes.length > 0)
    .map((r) => `- ${r.title}: ${r.notes.join('; ')}`)
    .join('\n');
}

export function renderProblems(problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      const where = [p.scenario, p.side, p.phase, p.round === undefined ? undefined : `round ${p.round}`].filter(Boolean).join(' / ');
      const sample = p.sample
        ? `\n    first failure (${p.sample.problem}):\n      request:  ${p.sample.request}\n      response: HTTP ${p.sample.status} ${p.sample.response}`
        : '';
      return `- [${where}] ${p.message}${sample}`;
    })
    .join('\n');
}

export function writeResults(
  file: string,
  payload: {
    mode: 'quick' | 'full';
    environment: Environment;
    gatewayEnvironment: string;
    rows: readonly ScenarioRow[];
    problems: readonly Problem[];
    options: unknown;
  },
): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
}
