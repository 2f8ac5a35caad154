/**
 * (7) 10,000 concurrent subscribers on one instance: stable, no errors. 10,000 connections (each its own
 * caller) with one subscription each, spread over 100 payouts, held open for HOLD_S seconds — more than
 * two rounds of the gateway's WebSocket keep-alive (a ping every 12 s, src/app.ts; a client that missed
 * a pong would be terminated on the second round) — then one webhook per payout, all at once. Pass:
 * every client got its snapshot, its final `next` and `complete`; no connection closed or errored early;
 * no error or stray frame. The time from the first webhook sent to the last final received is reported,
 * against the raw `ws` baseline under the same load (one round each).
 *
 * Each side needs ~10,000 file descriptors in the server and ~10,000 in the fleet (separate processes);
 * the scenario refuses to start when `ulimit -n` is lower.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeapReport } from '../lib/child.js';
import type { BenchContext, Side } from '../lib/context.js';
import { SUBSCRIBE_WAVE, endRound, recordFleetProblems, seedFor, subscriptionProcesses, timeToLast, wsUrl } from '../lib/fleet.js';
import type { FleetStatus } from '../lib/fleet-protocol.js';
import { fmtMs, fmtRatio, type ScenarioRow } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

/** The gateway's WebSocket keep-alive interval (src/app.ts, not configurable). */
export const GATEWAY_KEEPALIVE_MS = 12_000;
/** Descriptors a server or the fleet needs besides its client sockets (Redis, pools, files). */
const FD_MARGIN = 256;

function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface HoldRun {
  side: Side;
  connected: number;
  connectMs: number;
  subscribeMs: number;
  snapshots: number;
  held: FleetStatus;
  timeToLastMs: number;
  perEventLastMs: number[];
  delivered: number;
  completed: number;
  heapMiB?: number;
  rssMiB?: number;
}

export async function subscribers10k(ctx: BenchContext): Promise<ScenarioRow> {
  const { fleet, wsBaseline } = subscriptionProcesses(ctx);
  const { quick } = ctx.options;
  const n = quick ? 500 : 10_000;
  const payouts = quick ? 10 : 100;
  const holdS = quick ? 1 : Math.ceil((2 * GATEWAY_KEEPALIVE_MS) / 1000) + 1;
  const limit = openFilesLimit();
  // Node raises its soft limit to the hard one at start-up, so this is what every child gets too.
  if (limit !== undefined && limit < n + FD_MARGIN) {
    throw new Error(`ulimit -n is ${limit}: ${n} subscribers need ~${n + FD_MARGIN} file descriptors in the server and in the fleet (raise it, e.g. ulimit -n 20000)`);
  }
  const servers: Record<Side, typeof ctx.gateway> = { baseline: wsBaseline, candidate: ctx.gateway };
  const runs: HoldRun[] = [];
  const problemsBefore = ctx.problems.length;

  for (const side of ['baseline', 'candidate'] as const) {
    const server = servers[side];
    const where = { scenario: 'subscribers-10k', side, round: 1 };
    const ids = Array.from({ length: payouts }, (_, i) => `${ctx.runTag}-hold-${side}-${i}`);
    await seedFor(ctx, side, ids);
    const connected = await fleet.connect({ url: wsUrl(server), count: n, subPrefix: `${ctx.runTag}-hold`, concurrency: 200, timeoutMs: 300_000 });
    let ok = recordFleetProblems(ctx, where, 'connect', connected.problems) && connected.connected === n;
    try {
      if (!ok) continue;
      const sub = await fleet.subscribe({ payoutIds: ids, mode: 'spread', wave: SUBSCRIBE_WAVE, timeoutMs: 300_000 });
      ok = recordFleetProblems(ctx, where, 'subscribe', sub.problems);
      if (!ok) continue;
      ctx.log(`  subscribers-10k ${side.padEnd(9)}: ${connected.connected} connected in ${Math.round(connected.ms)} ms, ${sub.snapshots} snapshots in ${Math.round(sub.ms)} ms; holding ${holdS} s`);
      await sleep(holdS * 1000);
      const held = await fleet.status();
      ok = recordFleetProblems(ctx, where, 'hold', held.problems);
      if (held.open !== n) {
        ctx.problems.push({ scenario: 'subscribers-10k', side, message: `${n - held.open} of ${n} connections were no longer open after ${holdS} s` });
        ok = false;
      }
      if (side === 'candidate' && !quick && held.pingsMin < 2) {
        ctx.problems.push({ scenario: 'subscribers-10k', side, message: `a client got ${held.pingsMin} keep-alive pings in ${holdS} s (expected ≥ 2 at one per ${GATEWAY_KEEPALIVE_MS / 1000} s)` });
        ok = false;
      }
      let heap: HeapReport | undefined;
      if (side === 'candidate') {
        heap = await ctx.gateway.ask<HeapReport>('heap', {}, 60_000).catch(() => undefined);
        await sleep(500);
      }
      if (!ok) continue;
      const fired = await fleet.fire({
        httpUrl: server.url,
        events: ids.map((payoutId, k) => ({ payoutId, deliveryId: `${ctx.runTag}-hold-dlv-${side}-${k}` })),
        intervalMs: 0,
        timeoutMs: 120_000,
      });
      recordFleetProblems(ctx, { ...where, phase: 'measure' }, 'fire', fired.problems);
      const lasts = fired.events.map((e) => timeToLast(e, e.sentMs));
      const firstSent = Math.min(...fired.events.map((e) => e.sentMs));
      const run: HoldRun = {
        side,
        connected: connected.connected,
        connectMs: connected.ms,
        subscribeMs: sub.ms,
        snapshots: sub.snapshots,
        held,
        timeToLastMs: Math.max(...fired.events.map((e) => timeToLast(e, firstSent))),
        perEventLastMs: lasts,
        delivered: fired.events.reduce((a, e) => a + e.delivered, 0),
        completed: fired.events.reduce((a, e) => a + e.completed, 0),
        ...(heap ? { heapMiB: heap.heapUsed / 2 ** 20, rssMiB: heap.rss / 2 ** 20 } : {}),
      };
      runs.push(run);
      ctx.log(
        `  subscribers-10k ${side.padEnd(9)}: ${run.delivered} finals + ${run.completed} completes of ${n}; ${payouts} webhooks → last final after ${fmtMs(run.timeToLastMs)} ms; ` +
          `pings per client ${held.pingsMin}–${held.pingsMax}`,
      );
    } finally {
      await endRound(ctx, fleet, where);
    }
  }

  const runOf = (side: Side) => runs.find((r) => r.side === side);
  const b = runOf('baseline');
  const c = runOf('candidate');
  const ev = (r: HoldRun | undefined) => summarize(r?.perEventLastMs ?? []);
  const clean = ctx.problems.slice(problemsBefore).every((p) => p.scenario !== 'subscribers-10k');
  const allDelivered = (r: HoldRun | undefined) => r !== undefined && r.delivered === n && r.completed === n;
  const notes = [
    `${n.toLocaleString('en-US')} connections × 1 subscription over ${payouts} payouts, held ${holdS} s, then ${payouts} webhooks at once`,
    `connect: ${Math.round(b?.connectMs ?? Number.NaN)} → ${Math.round(c?.connectMs ?? Number.NaN)} ms; subscribe to the last snapshot: ${Math.round(b?.subscribeMs ?? Number.NaN)} → ${Math.round(c?.subscribeMs ?? Number.NaN)} ms`,
    `delivered finals + completes: baseline ${b?.delivered ?? 0} + ${b?.completed ?? 0}, gateway ${c?.delivered ?? 0} + ${c?.completed ?? 0} of ${n}`,
    `gateway keep-alive pings per client during the hold: ${c?.held.pingsMin ?? '?'}–${c?.held.pingsMax ?? '?'}`,
  ];
  if (c?.heapMiB !== undefined) notes.push(`gateway with ${n.toLocaleString('en-US')} subscribers: heap ${c.heapMiB.toFixed(0)} MiB after GC, RSS ${(c.rssMiB ?? 0).toFixed(0)} MiB`);
  if (quick) notes.push(`--quick: held ${holdS} s, shorter than the keep-alive interval`);
  return {
    id: 'subscribers-10k',
    title: `${n.toLocaleString('en-US')} concurrent subscribers held ${holdS} s, then ${payouts} webhooks: first send → last final (ms)`,
    baseline: fmtMs(b?.timeToLastMs ?? Number.NaN),
    candidate: fmtMs(c?.timeToLastMs ?? Number.NaN),
    ratio: fmtRatio((c?.timeToLastMs ?? Number.NaN) / (b?.timeToLastMs ?? Number.NaN)),
    latency: `${fmtMs(ev(b).p50)} / ${fmtMs(ev(b).p99)} → ${fmtMs(ev(c).p50)} / ${fmtMs(ev(c).p99)} (per webhook)`,
    target: 'all delivered, no errors or closes',
    pass: clean && allDelivered(b) && allDelivered(c),
    values: { subscribers: n, payouts, holdS, baselineTimeToLastMs: b?.timeToLastMs ?? Number.NaN, candidateTimeToLastMs: c?.timeToLastMs ?? Number.NaN },
    notes,
    rounds: runs,
  };
}
