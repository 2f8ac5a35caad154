/**
 * CPU seconds each child process spent during a run (from /proc), so every scenario can say where the
 * time went: the process under test, Redis, the stub. On a machine with few cores the load generator,
 * the stub and Redis compete with the server, and CPU per request is the number that does not depend
 * on how the scheduler shared the cores.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { RunResult } from './load.js';
import { machineCpuSeconds, machineStealSeconds, type ChildHandle } from './processes.js';

export type CpuSeconds = Record<string, number | undefined>;

/** This process's name in `cpuS`: during a load run it is the load generator (autocannon, open loop). */
export const LOAD_GENERATOR = 'load generator';

export interface CpuRun extends RunResult {
  cpuS: CpuSeconds;
  /** CPU seconds of the whole machine during the run (user, system, irq: every process, the kernel too). */
  machineCpuS?: number;
  /** machineCpuS as a share of all cores over the run's wall-clock time. */
  machineBusy?: number;
  /** Share of all cores the hypervisor gave to other guests during the run (a VM's "steal"). */
  machineSteal?: number;
}

export async function withCpu<T extends RunResult>(handles: readonly ChildHandle[], run: () => Promise<T>): Promise<T & CpuRun> {
  const before = handles.map((h) => h.cpuSeconds());
  const self0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const steal0 = machineStealSeconds();
  const t0 = performance.now();
  const result = await run();
  const wallS = (performance.now() - t0) / 1000;
  const machine1 = machineCpuSeconds();
  const steal1 = machineStealSeconds();
  const self = process.cpuUsage(self0);
  const after = handles.map((h) => h.cpuSeconds());
  const cpuS: CpuSeconds = {};
  handles.forEach((h, i) => {
    const a = before[i];
    const b = after[i];
    cpuS[h.name] = a === undefined || b === undefined ? undefined : b - a;
  });
  cpuS[LOAD_GENERATOR] = (self.user + self.system) / 1e6;
  if (machine0 === undefined || machine1 === undefined) return { ...result, cpuS };
  const machineCpuS = machine1 - machine0;
  const coreS = wallS * os.cpus().length;
  const steal = steal0 === undefined || steal1 === undefined ? {} : { machineSteal: (steal1 - steal0) / coreS };
  return { ...result, cpuS, machineCpuS, machineBusy: machineCpuS / coreS, ...steal };
}

/**
 * "97 % busy, 1 % stolen by the hypervisor, 0.553 ms per request": how much of the machine the runs
 * used, and all of its CPU (every process and the kernel) per answered request, averaged over runs; ''
 * without /proc. When the machine is near 100 % busy, throughput is set by this total, not by any one
 * process.
 */
export function machineLoad(runs: readonly CpuRun[]): string {
  const measured = runs.filter((r): r is CpuRun & { machineBusy: number; machineCpuS: number } => r.machineBusy !== undefined && r.machineCpuS !== undefined);
  if (measured.length === 0) return '';
  const busy = measured.reduce((a, r) => a + r.machineBusy, 0) / measured.length;
  const perRequest = measured.reduce((a, r) => a + (r.machineCpuS * 1000) / Math.max(1, r.ok), 0) / measured.length;
  const stolen = measured.filter((r) => r.machineSteal !== undefined);
  const steal = stolen.length === 0 ? '' : `, ${Math.round((stolen.reduce((a, r) => a + (r.machineSteal ?? 0), 0) / stolen.length) * 100)} % stolen by the hypervisor`;
  return `${Math.round(busy * 100)} % busy${steal}, ${perRequest.toFixed(3)} ms per request`;
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
