/**
 * (5) Fan-out latency: one webhook → the final `next` at the LAST of N graphql-ws subscribers (5,000) on
 * one instance, p99 over many events, against a raw `ws` broadcast of the same frames to the same clients
 * (ws-baseline.ts). Target: candidate p99 ÷ baseline p99 ≤ 1.3.
 *
 * Per side and round the fleet (subscribers.ts) opens N connections, each its own caller. Per sample: a
 * fresh payout is made known as PROCESSING (the gateway: Redis through its own store code; the
 * baseline: its registration route), every client subscribes to it and gets its snapshot, then ONE
 * signed `payout.completed` is sent and the clock runs from just before the send to the arrival of the
 * SUCCESS `next` at the last client (same process, same clock). Every client must also get `complete`;
 * anything else is a Problem. Rounds alternate baseline/candidate; the first sample of each round is a
 * warm-up.
 */
import { SUBSCRIBE_WAVE, addGc, cpuDuring, compareFrames, fmtGc, gcDuring, ms, timeToLast, endRound, profileWindow, recordFleetProblems, seedFor, subscriptionProcesses, wsUrl, type SampleFrames } from '../lib/fleet.js';
import { longest, type GcStats } from '../lib/child.js';
import type { BenchContext, Side } from '../lib/context.js';
import { fmtMs, fmtRatio, type ScenarioRow } from '../lib/report.js';
import { mean, summarize } from '../lib/stats.js';

export const FANOUT_RATIO_TARGET = 1.3;
const WARMUP_SAMPLES = 1;

interface FanoutSample {
  side: Side;
  round: number;
  timeToLastMs: number;
  timeToFirstMs: number;
  timeToMedianMs: number;
  /** When the webhook's 200 came back, from the send. */
  answeredMs: number;
  /** Subscribe of all N clients to the sample's payout, to the last snapshot. */
  subscribeMs: number;
  subscribeCpuS: number;
  fireCpuS: number;
  fleetFireCpuS: number;
  /** The longest event-loop block in the server and in the fleet during the sample's fire, and the server's GC pause time. */
  serverBlockMs: number;
  fleetBlockMs: number;
  serverGcMs: number;
}

export async function fanout(ctx: BenchContext): Promise<ScenarioRow> {
  const { fleet, wsBaseline, subscribers } = subscriptionProcesses(ctx);
  const { quick, rounds } = ctx.options;
  const n = ctx.options.subscribers ?? (quick ? 300 : 5_000);
  const perRound = Math.max(1, Math.ceil((quick ? 3 : 30) / rounds));
  const servers: Record<Side, typeof ctx.gateway> = { baseline: wsBaseline, candidate: ctx.gateway };
  const samples: FanoutSample[] = [];
  const frames: Partial<Record<Side, SampleFrames>> = {};
  const gcOf: Record<Side, GcStats> = { baseline: {}, candidate: {} };
  let seq = 0;
  const problemsBefore = ctx.problems.length;

  for (let round = 1; round <= rounds; round++) {
    for (const side of ['baseline', 'candidate'] as const) {
      const server = servers[side];
      const where = { scenario: 'fanout', side, round };
      const connected = await fleet.connect({ url: wsUrl(server), count: n, subPrefix: `${ctx.runTag}-fan`, concurrency: 100, timeoutMs: 180_000 });
      let ok = recordFleetProblems(ctx, where, 'connect', connected.problems);
      const mine: FanoutSample[] = [];
      try {
        for (let s = 0; ok && s < WARMUP_SAMPLES + perRound; s++) {
          const phase = s < WARMUP_SAMPLES ? 'warmup' : 'measure';
          const payoutId = `${ctx.runTag}-fan-${seq++}`;
          await seedFor(ctx, side, [payoutId]);
          const profileSubscribe = side === 'candidate' && round === rounds && s === WARMUP_SAMPLES;
          const sub = await profileWindow(ctx, profileSubscribe, 'fanout-subscribe', () =>
            cpuDuring([server], () => fleet.subscribe({ payoutIds: [payoutId], mode: 'all', wave: SUBSCRIBE_WAVE, timeoutMs: 180_000 })),
          );
          ok = recordFleetProblems(ctx, { ...where, phase }, 'subscribe', sub.result.problems);
          if (!ok) break;
          const { result: fired, gc, loop } = await gcDuring(server, () =>
            profileWindow(ctx, side === 'candidate' && phase === 'measure', 'fanout-fire', () =>
              cpuDuring([server, subscribers], () =>
                fleet.fire({ httpUrl: server.url, events: [{ payoutId, deliveryId: `${ctx.runTag}-fan-dlv-${seq}` }], intervalMs: 0, timeoutMs: 60_000 }),
              ),
            ),
          );
          ok = recordFleetProblems(ctx, { ...where, phase }, 'fire', fired.result.problems);
          const ev = fired.result.events[0];
          if (!ok || !ev) break;
          frames[side] ??= {
            ...(sub.result.sampleFrame ? { snapshot: sub.result.sampleFrame } : {}),
            ...(fired.result.sampleNext ? { next: fired.result.sampleNext } : {}),
            ...(fired.result.sampleComplete ? { complete: fired.result.sampleComplete } : {}),
          };
          if (phase === 'warmup') continue;
          addGc(gcOf[side], gc);
          mine.push({
            side,
            round,
            timeToLastMs: timeToLast(ev, ev.sentMs),
            timeToFirstMs: ms(ev.firstMs) - ev.sentMs,
            timeToMedianMs: ms(ev.medianMs) - ev.sentMs,
            answeredMs: ms(ev.answeredMs) - ev.sentMs,
            subscribeMs: sub.result.ms,
            subscribeCpuS: sub.cpuS[server.name] ?? Number.NaN,
            fireCpuS: fired.cpuS[server.name] ?? Number.NaN,
            fleetFireCpuS: fired.cpuS[subscribers.name] ?? Number.NaN,
            serverBlockMs: longest(loop.blocks),
            fleetBlockMs: longest(fired.result.blocks),
            serverGcMs: Object.values(gc).reduce((sum, k) => sum + k.totalMs, 0),
          });
        }
      } finally {
        await endRound(ctx, fleet, where);
      }
      samples.push(...mine);
      const last = summarize(mine.map((m) => m.timeToLastMs));
      ctx.log(
        `  fanout    ${side.padEnd(9)} round ${round}: ${n} subscribers, ${mine.length} events, time-to-last p50 ${fmtMs(last.p50)} / p99 ${fmtMs(last.p99)} ms, ` +
          `subscribe ${fmtMs(mean(mine.map((m) => m.subscribeMs)))} ms (connect ${Math.round(connected.ms)} ms)`,
      );
    }
  }

  const of = (side: Side) => samples.filter((s) => s.side === side);
  const lat = (side: Side) => summarize(of(side).map((s) => s.timeToLastMs));
  const base = lat('baseline');
  const cand = lat('candidate');
  const ratio = cand.p99 / base.p99;
  const meanOf = (side: Side, pick: (s: FanoutSample) => number) => mean(of(side).map(pick));
  const usPerSub = (side: Side, pick: (s: FanoutSample) => number) => (meanOf(side, pick) * 1e6) / n;
  const framesNote = compareFrames(ctx, 'fanout', frames);
  const notes = [
    `${n.toLocaleString('en-US')} subscribers, ${of('candidate').length} + ${of('baseline').length} events measured (${rounds} ABAB round(s) of ${perRound}, after ${WARMUP_SAMPLES} warm-up each)`,
    `time to the first subscriber: baseline p50 ${fmtMs(summarize(of('baseline').map((s) => s.timeToFirstMs)).p50)} ms, candidate ${fmtMs(summarize(of('candidate').map((s) => s.timeToFirstMs)).p50)} ms; ` +
      `to the median one: ${fmtMs(summarize(of('baseline').map((s) => s.timeToMedianMs)).p50)} → ${fmtMs(summarize(of('candidate').map((s) => s.timeToMedianMs)).p50)} ms`,
    `webhook answered after ${fmtMs(summarize(of('baseline').map((s) => s.answeredMs)).p50)} (baseline) / ${fmtMs(summarize(of('candidate').map((s) => s.answeredMs)).p50)} ms (gateway), p50`,
    `CPU per event and subscriber (µs): server ${usPerSub('baseline', (s) => s.fireCpuS).toFixed(1)} → ${usPerSub('candidate', (s) => s.fireCpuS).toFixed(1)}, ` +
      `fleet ${usPerSub('baseline', (s) => s.fleetFireCpuS).toFixed(1)} / ${usPerSub('candidate', (s) => s.fleetFireCpuS).toFixed(1)} (/proc, 10 ms ticks)`,
    `subscribe of all ${n.toLocaleString('en-US')} to a new payout, to the last snapshot: ${fmtMs(meanOf('baseline', (s) => s.subscribeMs))} → ${fmtMs(meanOf('candidate', (s) => s.subscribeMs))} ms, ` +
      `server CPU per subscribe ${usPerSub('baseline', (s) => s.subscribeCpuS).toFixed(1)} → ${usPerSub('candidate', (s) => s.subscribeCpuS).toFixed(1)} µs`,
    `GC pauses per event in the server: baseline ${fmtGc(gcOf.baseline, of('baseline').length)}; gateway ${fmtGc(gcOf.candidate, of('candidate').length)}`,
    `slowest events, with the server's GC pause time and the longest event-loop block in the server and in the fleet during each: ${(['baseline', 'candidate'] as const)
      .map((side) => `${side === 'baseline' ? 'baseline' : 'gateway'} ${slowest(of(side))}`)
      .join('; ')}`,
    framesNote,
  ];
  const clean = ctx.problems.slice(problemsBefore).every((p) => p.scenario !== 'fanout');
  const complete = of('baseline').length === rounds * perRound && of('candidate').length === rounds * perRound;
  return {
    id: 'fanout',
    title: `webhook → last of ${n.toLocaleString('en-US')} graphql-ws subscribers, p99 (ms)`,
    baseline: fmtMs(base.p99),
    candidate: fmtMs(cand.p99),
    ratio: fmtRatio(ratio),
    latency: `${fmtMs(base.p50)} / ${fmtMs(base.p99)} → ${fmtMs(cand.p50)} / ${fmtMs(cand.p99)}`,
    target: `≤ ${FANOUT_RATIO_TARGET}× raw ws`,
    pass: clean && complete && ratio <= FANOUT_RATIO_TARGET,
    values: { subscribers: n, baselineP50Ms: base.p50, baselineP99Ms: base.p99, candidateP50Ms: cand.p50, candidateP99Ms: cand.p99, ratio },
    notes,
    rounds: samples,
  };
}

/** "212 ms (server GC 20, server block 48, fleet block 12), 180 ms (…)": the three slowest samples and what held things up meanwhile. */
function slowest(samples: FanoutSample[]): string {
  return [...samples]
    .sort((a, b) => b.timeToLastMs - a.timeToLastMs)
    .slice(0, 3)
    .map((s) => `${Math.round(s.timeToLastMs)} ms (server GC ${Math.round(s.serverGcMs)}, server block ${Math.round(s.serverBlockMs)}, fleet block ${Math.round(s.fleetBlockMs)})`)
    .join(', ');
}
