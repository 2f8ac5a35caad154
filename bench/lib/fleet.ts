/**
 * The runner's side of the subscriber fleet (subscribers.ts): typed calls of its HTTP control API, each
 * bounded by the operation's own timeout plus a margin, and the helpers the subscription scenarios
 * share (seeding on either side, recording the fleet's problems).
 */
import { resolve as resolvePath } from 'node:path';
import { request } from 'undici';
import type { GcStats, LoopStats, TimedPause } from './child.js';
import type { BenchContext, Side } from './context.js';
import {
  FLEET_PATHS,
  type CloseResult,
  type ConnectRequest,
  type ConnectResult,
  type FireRequest,
  type FiredEvent,
  type FireResult,
  type FleetStatus,
  type SubscribeRequest,
  type SubscribeResult,
} from './fleet-protocol.js';
import type { ChildHandle } from './processes.js';
import { seedProcessing } from './seed.js';
import { processingFields, WS_PATH } from './ws-protocol.js';
import { WS_BASELINE_PATHS } from '../ws-baseline.js';

const MARGIN_MS = 30_000;

/**
 * Subscribes in flight at once in every scenario's setup (a fanout sample is one wave of 5,000). A burst
 * of 100,000 at once (fanout-rate's setup unpaced) made the gateway answer NOT_FOUND to ~2 % of them:
 * its Redis reads timed out behind the subscribe backlog and the fallback reported the payout missing.
 * Setup is not what these scenarios measure, so it is paced; see bench/README.md.
 */
export const SUBSCRIBE_WAVE = 5_000;

export class Fleet {
  constructor(private readonly handle: ChildHandle) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<T> {
    const res = await request(`${this.handle.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
      headersTimeout: timeoutMs + MARGIN_MS,
      bodyTimeout: timeoutMs + MARGIN_MS,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`subscriber fleet ${path}: HTTP ${res.statusCode} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  connect(req: ConnectRequest): Promise<ConnectResult> {
    return this.call('POST', FLEET_PATHS.connect, req, req.timeoutMs);
  }

  subscribe(req: SubscribeRequest): Promise<SubscribeResult> {
    return this.call('POST', FLEET_PATHS.subscribe, req, req.timeoutMs);
  }

  fire(req: FireRequest): Promise<FireResult> {
    return this.call('POST', FLEET_PATHS.fire, req, req.timeoutMs);
  }

  status(): Promise<FleetStatus> {
    return this.call('GET', FLEET_PATHS.status, undefined, 10_000);
  }

  close(timeoutMs = 30_000): Promise<CloseResult> {
    return this.call('POST', FLEET_PATHS.close, { timeoutMs }, timeoutMs);
  }
}

/** The bench's child processes a subscription scenario needs; a clear error when one was not started. */
export function subscriptionProcesses(ctx: BenchContext): { fleet: Fleet; wsBaseline: ChildHandle; subscribers: ChildHandle } {
  if (!ctx.subscribers || !ctx.wsBaseline) throw new Error('the subscriber fleet and the ws baseline were not started');
  return { fleet: new Fleet(ctx.subscribers), wsBaseline: ctx.wsBaseline, subscribers: ctx.subscribers };
}

/** A fleet time that may be missing (null) as a number: NaN when missing. */
export const ms = (t: number | null | undefined): number => (t === null || t === undefined ? Number.NaN : t);

/**
 * Time from `from` to the last subscriber's final `next`: +Infinity when some subscriber never got it
 * (a lost event is infinitely late, so it shows in a p99 instead of vanishing from it).
 */
export const timeToLast = (e: FiredEvent, from: number): number => (e.delivered < e.expected || e.lastMs === null ? Number.POSITIVE_INFINITY : e.lastMs - from);

export const wsUrl = (handle: ChildHandle): string => `${handle.url.replace(/^http/, 'ws')}${WS_PATH}`;

/**
 * Makes payouts known as PROCESSING to one side: the gateway through Redis (its own store code, what an
 * execute leaves behind), the ws baseline through its registration route.
 */
export async function seedFor(ctx: BenchContext, side: Side, ids: readonly string[]): Promise<void> {
  if (side === 'candidate') return seedProcessing(ctx, ids);
  const target = ctx.wsBaseline;
  if (!target) throw new Error('the ws baseline was not started');
  const res = await request(`${target.url}${WS_BASELINE_PATHS.payouts}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ids.map(processingFields)),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`ws baseline ${WS_BASELINE_PATHS.payouts}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
}

export interface Where {
  scenario: string;
  side: Side;
  phase?: 'warmup' | 'measure';
  round?: number;
}

/** Every problem the fleet reported becomes a Problem of the run (exit status 1). True when there were none. */
export function recordFleetProblems(ctx: BenchContext, where: Where, what: string, problems: readonly string[]): boolean {
  for (const p of problems) {
    ctx.problems.push({
      scenario: where.scenario,
      side: where.side,
      ...(where.phase ? { phase: where.phase } : {}),
      ...(where.round !== undefined ? { round: where.round } : {}),
      message: `${what}: ${p}`,
    });
  }
  return problems.length === 0;
}

/** Seconds of CPU each handle used while `run` ran. */
export async function cpuDuring<T>(handles: readonly ChildHandle[], run: () => Promise<T>): Promise<{ result: T; cpuS: Record<string, number> }> {
  const before = handles.map((h) => h.cpuSeconds() ?? Number.NaN);
  const result = await run();
  const cpuS: Record<string, number> = {};
  handles.forEach((h, i) => (cpuS[h.name] = (h.cpuSeconds() ?? Number.NaN) - (before[i] as number)));
  return { result, cpuS };
}

/**
 * With `--profile`: a V8 CPU profile of the gateway covering only `run` (e.g. one fan-out, without the
 * subscribes before it), written to the profile directory as `<name>-<time>.cpuprofile`.
 */
export async function profileWindow<T>(ctx: BenchContext, when: boolean, name: string, run: () => Promise<T>): Promise<T> {
  const dir = ctx.options.profileDir;
  if (!dir || !when) return run();
  await ctx.gateway.ask('profile-start', { intervalUs: 100 });
  try {
    return await run();
  } finally {
    await ctx.gateway.ask('profile-stop', { file: resolvePath(dir, `${name}-${Date.now()}.cpuprofile`) });
  }
}

/** End of a side's round: whatever went wrong while idle (early closes, stray frames), then close every client. */
export async function endRound(ctx: BenchContext, fleet: Fleet, where: Where): Promise<FleetStatus | undefined> {
  let status: FleetStatus | undefined;
  try {
    status = await fleet.status();
    recordFleetProblems(ctx, where, 'status', status.problems);
  } finally {
    const closed = await fleet.close();
    recordFleetProblems(ctx, where, 'close', closed.problems);
  }
  return status;
}

/**
 * A frame as received with its per-event values (subscription id, payout id, completedAt) replaced by
 * placeholders, byte for byte otherwise: the gateway's and the baseline's must then be equal strings.
 */
export function frameShape(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let msg: { id?: unknown; payload?: { data?: { payoutStatus?: { id?: unknown; completedAt?: unknown } } } };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return text;
  }
  const ps = msg.payload?.data?.payoutStatus;
  let shape = text;
  const swap = (value: unknown, placeholder: string) => {
    if (typeof value === 'string') shape = shape.split(JSON.stringify(value)).join(`"${placeholder}"`);
  };
  swap(msg.id, '<subscription>');
  swap(ps?.id, '<payout>');
  swap(ps?.completedAt, '<completedAt>');
  return shape;
}

export interface SampleFrames {
  snapshot?: string;
  next?: string;
  complete?: string;
}

/**
 * Both sides must send the same frames: a difference is a Problem (the comparison would be unfair).
 * Returns the note that says what was compared.
 */
export function compareFrames(ctx: BenchContext, scenario: string, frames: Partial<Record<Side, SampleFrames>>): string {
  const kinds = ['snapshot', 'next', 'complete'] as const;
  const parts: string[] = [];
  for (const kind of kinds) {
    const base = frameShape(frames.baseline?.[kind]);
    const cand = frameShape(frames.candidate?.[kind]);
    if (base === undefined || cand === undefined) continue;
    if (base !== cand) {
      ctx.problems.push({ scenario, side: 'setup', message: `the baseline's ${kind} frame differs from the gateway's:\n    baseline: ${base}\n    gateway:  ${cand}` });
      parts.push(`${kind} DIFFERS`);
    } else {
      parts.push(`${kind} ${Buffer.byteLength(frames.candidate?.[kind] ?? '')} B`);
    }
  }
  const sample = frameShape(frames.candidate?.next);
  return parts.length ? `frames identical on both sides but for ids and completedAt (${parts.join(', ')})${sample ? `: ${sample}` : ''}` : 'no frames to compare';
}

/**
 * GC pauses in `handle`'s main thread while `run` ran (the child's `gc-stats` observer), and its
 * event-loop blocks and GC pauses meanwhile with their times (`loop-stats`).
 */
export async function gcDuring<T>(handle: ChildHandle, run: () => Promise<T>): Promise<{ result: T; gc: GcStats; loop: LoopStats }> {
  await handle.ask('gc-stats', { reset: true });
  await handle.ask('loop-stats', { start: true });
  const result = await run();
  const loop = await handle.ask<LoopStats>('loop-stats', {});
  return { result, gc: await handle.ask<GcStats>('gc-stats', { reset: true }), loop };
}

/** What held a process up within [fromMs, toMs] (epoch ms): pause time overlapping it, and the longest one. */
export function pausedWithin(pauses: readonly TimedPause[], fromMs: number, toMs: number): { totalMs: number; longestMs: number } {
  let totalMs = 0;
  let longestMs = 0;
  for (const p of pauses) {
    const overlap = Math.min(toMs, p.atMs + p.ms) - Math.max(fromMs, p.atMs);
    if (overlap <= 0) continue;
    totalMs += overlap;
    longestMs = Math.max(longestMs, p.ms);
  }
  return { totalMs, longestMs };
}

export function addGc(into: GcStats, more: GcStats): GcStats {
  for (const [kind, s] of Object.entries(more)) {
    const t = (into[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    t.count += s.count;
    t.totalMs += s.totalMs;
    t.maxMs = Math.max(t.maxMs, s.maxMs);
  }
  return into;
}

/** "minor 120 × (340 ms, longest 12 ms), major 3 × (…)"; per `per` runs when given. */
export function fmtGc(gc: GcStats, per = 1): string {
  const kinds = Object.entries(gc).filter(([k]) => k !== 'weakcb');
  if (kinds.length === 0) return 'none';
  return kinds
    .map(([k, s]) => `${k} ${(s.count / per).toFixed(per === 1 ? 0 : 1)} × (${(s.totalMs / per).toFixed(0)} ms, longest ${s.maxMs.toFixed(0)} ms)`)
    .join(', ');
}
