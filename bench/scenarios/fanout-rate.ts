/**
 * (6) Fan-out at a rate: 5 events/s to 5,000 subscribers on one instance, with no backlog: the p99 of
 * each event's time-to-last-subscriber stays below the event interval (200 ms), and the last events are
 * not slower than the first.
 *
 * Webhooks only carry finals, so every event is a different payout: E payouts (5/s × D s) are made known
 * as PROCESSING, every client subscribes to all E on its one connection (E ≤ 20, the gateway's default
 * WS_MAX_SUBSCRIPTIONS_PER_CONNECTION; each client is its own caller, far under SUBSCRIPTIONS_PER_CALLER
 * = 100) and gets E snapshots; then the E webhooks go out open loop, one every 200 ms whatever the
 * deliveries do, and each event's time runs from its due time to its final `next` at the last client.
 * The first WARMUP_EVENTS of each run are not counted. Same against the raw `ws` baseline, ABAB.
 */
import { performance } from 'node:perf_hooks';
import { longest, type GcStats, type LoopStats, type TimedPause } from '../lib/child.js';
import type { FiredEvent } from '../lib/fleet-protocol.js';
import type { BenchContext, Side } from '../lib/context.js';
import { SUBSCRIBE_WAVE, addGc, cpuDuring, fmtGc, gcDuring, pausedWithin, timeToLast, endRound, profileWindow, recordFleetProblems, seedFor, subscriptionProcesses, wsUrl } from '../lib/fleet.js';
import { fmtMs, fmtRatio, type ScenarioRow } from '../lib/report.js';
import { mean, summarize } from '../lib/stats.js';

export const EVENTS_PER_S = 5;
export const INTERVAL_MS = 1000 / EVENTS_PER_S;
const WARMUP_EVENTS = 2;
/** "Not slower": the last third's mean time-to-last within 25 % + 5 ms of the first third's. */
const TREND_FACTOR = 1.25;
const TREND_SLACK_MS = 5;

interface RateRun {
  side: Side;
  round: number;
  /** Time-to-last of each counted event, in send order (ms from its due time). */
  timeToLastMs: number[];
  firstThirdMs: number;
  lastThirdMs: number;
  maxSendLagMs: number;
  subscriptions: number;
  subscribeMs: number;
  subscribeCpuS: number;
  eventsCpuS: number;
  eventsWallS: number;
  /** GC pauses in the server's main thread during the events. */
  gc: GcStats;
  /** The longest event-loop block in the server and in the fleet during the events. */
  serverBlockMs: number;
  fleetBlockMs: number;
  /** The run's three slowest events and what held the server and the fleet up while each was on its way. */
  slowest: SlowEvent[];
  /** Events some subscriber never got (a Problem each). */
  lostEvents: number;
}

export async function fanoutRate(ctx: BenchContext): Promise<ScenarioRow> {
  const { fleet, wsBaseline } = subscriptionProcesses(ctx);
  const { quick, rounds } = ctx.options;
  const n = ctx.options.subscribers ?? (quick ? 300 : 5_000);
  const events = quick ? 10 : 20;
  const servers: Record<Side, typeof ctx.gateway> = { baseline: wsBaseline, candidate: ctx.gateway };
  const runs: RateRun[] = [];
  let seq = 0;
  const problemsBefore = ctx.problems.length;

  for (let round = 1; round <= rounds; round++) {
    for (const side of ['baseline', 'candidate'] as const) {
      const server = servers[side];
      const where = { scenario: 'fanout-rate', side, round };
      const ids = Array.from({ length: events }, () => `${ctx.runTag}-rate-${seq++}`);
      await seedFor(ctx, side, ids);
      const connected = await fleet.connect({ url: wsUrl(server), count: n, subPrefix: `${ctx.runTag}-rate`, concurrency: 100, timeoutMs: 180_000 });
      let ok = recordFleetProblems(ctx, where, 'connect', connected.problems);
      try {
        if (!ok) continue;
        const sub = await cpuDuring([server], () => fleet.subscribe({ payoutIds: ids, mode: 'all', wave: SUBSCRIBE_WAVE, timeoutMs: 300_000 }));
        ok = recordFleetProblems(ctx, where, 'subscribe', sub.result.problems);
        if (!ok) continue;
        const started = performance.now();
        const { result: fired, gc, loop } = await gcDuring(server, () =>
          profileWindow(ctx, side === 'candidate' && round === rounds, 'fanout-rate-events', () =>
            cpuDuring([server], () =>
              fleet.fire({
                httpUrl: server.url,
                events: ids.map((payoutId, k) => ({ payoutId, deliveryId: `${ctx.runTag}-rate-dlv-${round}-${side}-${k}` })),
                intervalMs: INTERVAL_MS,
                timeoutMs: events * INTERVAL_MS + 60_000,
              }),
            ),
          ),
        );
        const wallS = (performance.now() - started) / 1000;
        ok = recordFleetProblems(ctx, { ...where, phase: 'measure' }, 'fire', fired.result.problems);
        const counted = fired.result.events.slice(WARMUP_EVENTS);
        // A lost event (some subscriber never got it) counts as infinitely late.
        const ttl = counted.map((e) => timeToLast(e, e.dueMs));
        const third = Math.max(1, Math.floor(ttl.length / 3));
        const run: RateRun = {
          side,
          round,
          timeToLastMs: ttl,
          firstThirdMs: mean(ttl.slice(0, third)),
          lastThirdMs: mean(ttl.slice(-third)),
          maxSendLagMs: Math.max(...fired.result.events.map((e) => e.sentMs - e.dueMs)),
          subscriptions: sub.result.subscriptions,
          subscribeMs: sub.result.ms,
          subscribeCpuS: sub.cpuS[server.name] ?? Number.NaN,
          eventsCpuS: fired.cpuS[server.name] ?? Number.NaN,
          eventsWallS: wallS,
          gc,
          serverBlockMs: longest(loop.blocks),
          fleetBlockMs: longest(fired.result.blocks),
          slowest: slowestEvents(counted, fired.result.startEpochMs, loop, fired.result.blocks),
          lostEvents: fired.result.events.filter((e) => e.delivered < e.expected).length,
        };
        runs.push(run);
        ctx.log(
          `  fanout-rate ${side.padEnd(9)} round ${round}: ${events} events at ${EVENTS_PER_S}/s × ${n} subscribers, time-to-last ` +
            `${ttl.map((t) => (Number.isFinite(t) ? Math.round(t) : 'lost')).join(' ')} ms; subscribe of ${sub.result.subscriptions} took ${Math.round(sub.result.ms)} ms; GC during the events: ${fmtGc(gc)}; longest event-loop block: server ${Math.round(run.serverBlockMs)} ms, fleet ${Math.round(run.fleetBlockMs)} ms; ` +
            `slowest events: ${fmtSlowest(run.slowest)}`,
        );
      } finally {
        await endRound(ctx, fleet, where);
      }
    }
  }

  const of = (side: Side) => runs.filter((r) => r.side === side);
  const lat = (side: Side) => summarize(of(side).flatMap((r) => r.timeToLastMs));
  const base = lat('baseline');
  const cand = lat('candidate');
  const trend = (side: Side) => ({ first: mean(of(side).map((r) => r.firstThirdMs)), last: mean(of(side).map((r) => r.lastThirdMs)) });
  const ct = trend('candidate');
  const bt = trend('baseline');
  const noBacklog = (t: { first: number; last: number }) => t.last <= t.first * TREND_FACTOR + TREND_SLACK_MS;
  const cpuPerEventMs = (side: Side) => mean(of(side).map((r) => (r.eventsCpuS * 1000) / events));
  const coresBusy = (side: Side) => mean(of(side).map((r) => r.eventsCpuS / r.eventsWallS));
  const subUs = (side: Side) => mean(of(side).map((r) => (r.subscribeCpuS * 1e6) / r.subscriptions));
  const notes = [
    `${events} events per run (${WARMUP_EVENTS} warm-up not counted) × ${n.toLocaleString('en-US')} subscribers, each client subscribed to all ${events} payouts on one connection`,
    `mean time-to-last of the first third → last third of each run: baseline ${fmtMs(bt.first)} → ${fmtMs(bt.last)} ms, candidate ${fmtMs(ct.first)} → ${fmtMs(ct.last)} ms ` +
      `(no backlog: last ≤ ${TREND_FACTOR} × first + ${TREND_SLACK_MS} ms)`,
    `server CPU per event: ${cpuPerEventMs('baseline').toFixed(1)} → ${cpuPerEventMs('candidate').toFixed(1)} ms (${coresBusy('baseline').toFixed(2)} → ${coresBusy('candidate').toFixed(2)} cores busy during the events)`,
    `subscribe of ${(n * events).toLocaleString('en-US')} subscriptions to the last snapshot: ${fmtMs(mean(of('baseline').map((r) => r.subscribeMs)))} → ${fmtMs(mean(of('candidate').map((r) => r.subscribeMs)))} ms, ` +
      `server CPU per subscribe ${subUs('baseline').toFixed(1)} → ${subUs('candidate').toFixed(1)} µs`,
    `GC pauses in the server per run of events: baseline ${fmtGc(of('baseline').reduce((a, r) => addGc(a, r.gc), {} as GcStats), of('baseline').length)}; ` +
      `gateway ${fmtGc(of('candidate').reduce((a, r) => addGc(a, r.gc), {} as GcStats), of('candidate').length)}`,
    `longest event-loop block during the events, per run: ${runs.map((r) => `${r.side} round ${r.round}: server ${Math.round(r.serverBlockMs)} ms, fleet ${Math.round(r.fleetBlockMs)} ms`).join('; ')}`,
    `slowest events per run, each with what held things up between its due time and its last delivery (server GC pause time, longest server block, longest fleet block): ${runs
      .map((r) => `${r.side} round ${r.round}: ${fmtSlowest(r.slowest)}`)
      .join('; ')}`,
    ...(runs.some((r) => r.lostEvents > 0)
      ? [`events lost (not delivered to every subscriber, counted as ∞): ${runs.map((r) => `${r.side} round ${r.round}: ${r.lostEvents}`).join(', ')}`]
      : []),
    `largest send lag behind the schedule: ${fmtMs(Math.max(...runs.map((r) => r.maxSendLagMs)))} ms`,
  ];
  const clean = ctx.problems.slice(problemsBefore).every((p) => p.scenario !== 'fanout-rate');
  const complete = of('baseline').length === rounds && of('candidate').length === rounds && runs.every((r) => r.lostEvents === 0);
  return {
    id: 'fanout-rate',
    title: `${EVENTS_PER_S} events/s × ${n.toLocaleString('en-US')} subscribers: time-to-last p99 (ms)`,
    baseline: fmtMs(base.p99),
    candidate: fmtMs(cand.p99),
    ratio: fmtRatio(cand.p99 / base.p99),
    latency: `${fmtMs(base.p50)} / ${fmtMs(base.p99)} → ${fmtMs(cand.p50)} / ${fmtMs(cand.p99)}`,
    target: `p99 < ${INTERVAL_MS} ms, no backlog`,
    pass: clean && complete && cand.p99 < INTERVAL_MS && noBacklog(ct),
    values: {
      subscribers: n,
      events,
      baselineP50Ms: base.p50,
      baselineP99Ms: base.p99,
      candidateP50Ms: cand.p50,
      candidateP99Ms: cand.p99,
      candidateFirstThirdMs: ct.first,
      candidateLastThirdMs: ct.last,
    },
    notes,
    rounds: runs,
  };
}

interface SlowEvent {
  timeToLastMs: number;
  /** GC pause time in the server between the event's due time and its last delivery. */
  serverGcMs: number;
  serverBlockMs: number;
  fleetBlockMs: number;
}

/** The three slowest delivered events, with the server's and the fleet's pauses laid over each one's time on its way. */
function slowestEvents(events: readonly FiredEvent[], startEpochMs: number, server: LoopStats, fleetBlocks: readonly TimedPause[]): SlowEvent[] {
  return events
    .map((e) => ({ e, timeToLastMs: timeToLast(e, e.dueMs) }))
    .filter(({ timeToLastMs }) => Number.isFinite(timeToLastMs))
    .map(({ e, timeToLastMs }) => {
      const from = startEpochMs + e.dueMs;
      const to = from + timeToLastMs;
      return {
        timeToLastMs,
        serverGcMs: pausedWithin(server.gcPauses, from, to).totalMs,
        serverBlockMs: pausedWithin(server.blocks, from, to).longestMs,
        fleetBlockMs: pausedWithin(fleetBlocks, from, to).longestMs,
      };
    })
    .sort((a, b) => b.timeToLastMs - a.timeToLastMs)
    .slice(0, 3);
}

/** "237 ms (server GC 35, server block 60, fleet block 12)" for each. */
function fmtSlowest(events: readonly SlowEvent[]): string {
  return events
    .map((e) => `${Math.round(e.timeToLastMs)} ms (server GC ${Math.round(e.serverGcMs)}, server block ${Math.round(e.serverBlockMs)}, fleet block ${Math.round(e.fleetBlockMs)})`)
    .join(', ');
}
