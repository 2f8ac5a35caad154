/**
 * CPU seconds each child process spent during a run (from /proc), so every scenario can say where the
 * time went: the process under test, Redis, the stub. On a machine with few cores the load generator,
 * the stub and Redis compete with the server, and CPU per request is the number that does not depend
 * on how the scheduler shared the cores.
 */
import type { RunResult } from './load.js';
import type { ChildHandle } from './processes.js';

export type CpuSeconds = Record<string, number | undefined>;

export interface CpuRun extends RunResult {
  cpuS: CpuSeconds;
}

export async function withCpu<T extends RunResult>(handles: readonly ChildHandle[], run: () => Promise<T>): Promise<T & CpuRun> {
  const before = handles.map((h) => h.cpuSeconds());
  const result = await run();
  const after = handles.map((h) => h.cpuSeconds());
  const cpuS: CpuSeconds = {};
  handles.forEach((h, i) => {
    const a = before[i];
    const b = after[i];
    cpuS[h.name] = a === undefined || b === undefined ? undefined : b - a;
  });
  return { ...result, cpuS };
}

/** "gateway 1.230, redis 0.200": ms of CPU per answered request, averaged over runs; '' without /proc. */
export function cpuPerRequest(runs: readonly CpuRun[]): string {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.cpuS)))];
  return names
    .map((name) => {
      const per = runs.map((r) => r.cpuS[name]).filter((s): s is number => s !== undefined);
      if (per.length === 0) return '';
      const ms = runs.reduce((sum, r) => sum + ((r.cpuS[name] ?? 0) * 1000) / Math.max(1, r.ok), 0) / runs.length;
      return `${name} ${ms.toFixed(3)}`;
    })
    .filter(Boolean)
    .join(', ');
}
