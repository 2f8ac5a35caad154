/**
 * The child side of the bench's process protocol: a child announces `{type: 'ready', url}` over IPC once
 * it listens, and stops itself when the runner goes away (IPC disconnect) or signals it. The parent side
 * is processes.ts.
 */
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';

export interface ReadyMessage {
  type: 'ready';
  url: string;
  pid: number;
}

export function isReadyMessage(m: unknown): m is ReadyMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r['type'] === 'ready' && typeof r['url'] === 'string' && typeof r['pid'] === 'number';
}

export function announceReady(url: string): void {
  const message: ReadyMessage = { type: 'ready', url, pid: process.pid };
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

/** No orphans: a child whose runner died (IPC closed) or who is told to stop closes and exits. */
export function exitWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const bye = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('disconnect', bye);
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

/** Environment variable that must be set (children are only ever started by the runner). */
export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
}

/** A question from the runner over IPC; the answer carries the same `seq` and `reply: true`. */
export interface AskMessage {
  type: string;
  seq: number;
  args?: Record<string, unknown>;
}

export interface AnswerMessage {
  type: string;
  seq: number;
  reply: true;
  result?: unknown;
  error?: string;
}

export function isAnswerMessage(m: unknown): m is AnswerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r['reply'] === true && typeof r['type'] === 'string' && typeof r['seq'] === 'number';
}

export type AskHandler = (args: Record<string, unknown>) => unknown;

/** Answers the runner's IPC questions (`ChildHandle.ask`) with the named handlers. */
export function answerQuestions(handlers: Record<string, AskHandler>): void {
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null) return;
    const { type, seq, args } = m as Partial<AskMessage>;
    if (typeof type !== 'string' || typeof seq !== 'number') return;
    const handler = handlers[type];
    const reply = (body: { result?: unknown; error?: string }) => {
      const answer: AnswerMessage = { type, seq, reply: true, ...body };
      process.send?.(answer);
    };
    if (!handler) return reply({ error: `no handler for ${type}` });
    Promise.resolve()
      .then(() => handler(args ?? {}))
      .then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

export interface HeapReport {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/**
 * `process.memoryUsage()` after full garbage collections. Needs `node --expose-gc` (the runner starts
 * the gateway and the bare graphql-ws server with it); the heap scenario fails without it.
 */
export async function heapAfterGc(): Promise<HeapReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('global.gc is not exposed: start the process with --expose-gc');
  // Weak callbacks and finalizers run between collections: a few rounds until the heap stops shrinking.
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (i >= 2 && last - used < 64 * 1024) break;
    last = used;
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export interface GcKindStats {
  count: number;
  totalMs: number;
  maxMs: number;
}

/** GC pauses of this process by kind (minor, major, incremental, weakcb) since the last reset. */
export type GcStats = Record<string, GcKindStats>;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * `gc-stats` over IPC: the main-thread GC pauses observed (perf_hooks 'gc' entries, one callback per
 * collection) since the previous `gc-stats` with `reset`. The observer runs from the child's start.
 * `loop-stats`: between a `loop-stats` with `start` and the next `loop-stats`, every time the event loop
 * could not run a callback for a while (a GC pause, long synchronous work, or the process waiting for a
 * core) and every GC pause, each with its wall-clock time, so that the runner can lay them over the
 * events another process timed (all processes run on one machine, one clock).
 */
export function gcStatsHandlers(): Record<string, AskHandler> {
  let stats: GcStats = {};
  let pauses: TimedPause[] | undefined;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as { detail?: { kind?: number } }).detail;
      const kind = GC_KINDS[detail?.kind ?? 0] ?? `kind${detail?.kind ?? '?'}`;
      const s = (stats[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      s.count++;
      s.totalMs += e.duration;
      if (e.duration > s.maxMs) s.maxMs = e.duration;
      pauses?.push({ atMs: performance.timeOrigin + e.startTime, ms: e.duration });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let blocks: (() => TimedPause[]) | undefined;
  return {
    'gc-stats': (args) => {
      const out = stats;
      if (args['reset'] !== false) stats = {};
      return out;
    },
    'loop-stats': (args) => {
      const out: LoopStats = { blocks: blocks?.() ?? [], gcPauses: pauses ?? [] };
      blocks = undefined;
      pauses = undefined;
      if (args['start'] === true) {
        blocks = loopBlockWindow();
        pauses = [];
      }
      return out;
    },
  };
}

/** Something that held a process up: when it started (ms since the epoch) and how long it lasted. */
export interface TimedPause {
  atMs: number;
  ms: number;
}

export interface LoopStats {
  /** Every event-loop block of more than a tick (the sampler's 5 ms), in time order. */
  blocks: TimedPause[];
  /** Every GC pause in the main thread, in time order. */
  gcPauses: TimedPause[];
}

const SAMPLER_TICK_MS = 5;

/**
 * The event-loop blocks of `loop-stats` (also used by processes that answer over HTTP): a timer every
 * 5 ms; a tick that comes late by more than a tick is a block of that lateness, which started when the
 * previous tick ran. Returns the function that stops it and hands over the blocks.
 */
export function loopBlockWindow(): () => TimedPause[] {
  const found: TimedPause[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - SAMPLER_TICK_MS;
    if (late > SAMPLER_TICK_MS) found.push({ atMs: performance.timeOrigin + last, ms: late });
    last = now;
  }, SAMPLER_TICK_MS);
  return () => {
    clearInterval(timer);
    return found;
  };
}

/** The longest of `pauses`, 0 for none: how long the process could not react, at worst. */
export function longest(pauses: readonly TimedPause[]): number {
  return pauses.reduce((max, p) => Math.max(max, p.ms), 0);
}
