/**
 * (8) Heap per idle subscriber: the server's heapUsed after forced GCs with N idle subscribers (one
 * connection and one subscription each, snapshot received, each watching a payout of its own) minus
 * the same with none, divided by N. Target: ≤ 16 KiB on the gateway. Baseline: a bare graphql-ws
 * server (graphql-ws-bare.ts: useServer + ws + a tiny graphql-js schema) measured the same way.
 *
 * Each side's round first connects, subscribes and closes the same N clients once (warm-up: compiled
 * code, pools, the gateway's verified-token cache, a bounded 10,000-entry cache that a long-running
 * instance keeps full anyway), then measures: heap(0) → connect + subscribe → heap(N) → close → heap(0')
 * (what is left after they all went: a leak shows here). Both processes run with --expose-gc; GC runs
 * inside them on an IPC request, never during a latency measurement.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeapReport } from '../lib/child.js';
import type { BenchContext, Side } from '../lib/context.js';
import { SUBSCRIBE_WAVE, endRound, recordFleetProblems, seedFor, subscriptionProcesses, wsUrl } from '../lib/fleet.js';
import type { ChildHandle } from '../lib/processes.js';
import { mean } from '../lib/stats.js';
import { fmtRatio, type ScenarioRow } from '../lib/report.js';

export const HEAP_PER_SUBSCRIBER_TARGET_KIB = 16;
const SETTLE_MS = 500;

interface HeapRun {
  side: Side;
  round: number;
  empty: HeapReport;
  loaded: HeapReport;
  after: HeapReport;
  perSubscriberKiB: number;
  rssPerSubscriberKiB: number;
  externalPerSubscriberKiB: number;
  leftPerSubscriberKiB: number;
}

const kib = (bytes: number) => bytes / 1024;

export async function heap(ctx: BenchContext): Promise<ScenarioRow> {
  const { fleet } = subscriptionProcesses(ctx);
  const bare = ctx.bareGraphqlWs;
  if (!bare) throw new Error('the bare graphql-ws server was not started');
  const { quick, rounds } = ctx.options;
  const n = ctx.options.subscribers ?? (quick ? 300 : 5_000);
  const servers: Record<Side, ChildHandle> = { baseline: bare, candidate: ctx.gateway };
  const runs: HeapRun[] = [];
  const problemsBefore = ctx.problems.length;
  const ids = Array.from({ length: n }, (_, i) => `${ctx.runTag}-heap-${i}`);
  // The gateway must know them (Redis); the bare server answers any id.
  await seedFor(ctx, 'candidate', ids);

  const connectAndSubscribe = async (server: ChildHandle, where: { scenario: string; side: Side; round: number; phase: 'warmup' | 'measure' }) => {
    const connected = await fleet.connect({ url: wsUrl(server), count: n, subPrefix: `${ctx.runTag}-heap`, concurrency: 100, timeoutMs: 180_000 });
    if (!recordFleetProblems(ctx, where, 'connect', connected.problems)) return false;
    const sub = await fleet.subscribe({ payoutIds: ids, mode: 'spread', wave: SUBSCRIBE_WAVE, timeoutMs: 180_000 });
    return recordFleetProblems(ctx, where, 'subscribe', sub.problems) && sub.snapshots === n;
  };

  for (let round = 1; round <= rounds; round++) {
    for (const side of ['baseline', 'candidate'] as const) {
      const server = servers[side];
      const where = { scenario: 'heap', side, round };
      try {
        await connectAndSubscribe(server, { ...where, phase: 'warmup' });
      } finally {
        await endRound(ctx, fleet, where);
      }
      await sleep(SETTLE_MS);
      const empty = await server.ask<HeapReport>('heap', {}, 60_000);
      let loaded: HeapReport | undefined;
      try {
        if (await connectAndSubscribe(server, { ...where, phase: 'measure' })) {
          await sleep(SETTLE_MS);
          loaded = await server.ask<HeapReport>('heap', {}, 60_000);
        }
      } finally {
        await endRound(ctx, fleet, where);
      }
      await sleep(SETTLE_MS);
      const after = await server.ask<HeapReport>('heap', {}, 60_000);
      if (!loaded) continue;
      const run: HeapRun = {
        side,
        round,
        empty,
        loaded,
        after,
        perSubscriberKiB: kib(loaded.heapUsed - empty.heapUsed) / n,
        rssPerSubscriberKiB: kib(loaded.rss - empty.rss) / n,
        externalPerSubscriberKiB: kib(loaded.external - empty.external) / n,
        leftPerSubscriberKiB: kib(after.heapUsed - empty.heapUsed) / n,
      };
      runs.push(run);
      ctx.log(
        `  heap      ${side.padEnd(9)} round ${round}: heapUsed ${(empty.heapUsed / 2 ** 20).toFixed(1)} → ${(loaded.heapUsed / 2 ** 20).toFixed(1)} MiB with ${n} subscribers ` +
          `= ${run.perSubscriberKiB.toFixed(2)} KiB each; ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB after they left`,
      );
    }
  }

  const of = (side: Side) => runs.filter((r) => r.side === side);
  const avg = (side: Side, pick: (r: HeapRun) => number) => mean(of(side).map(pick));
  const base = avg('baseline', (r) => r.perSubscriberKiB);
  const cand = avg('candidate', (r) => r.perSubscriberKiB);
  const spread = (side: Side) => of(side).map((r) => r.perSubscriberKiB.toFixed(2)).join(', ');
  const clean = ctx.problems.slice(problemsBefore).every((p) => p.scenario !== 'heap');
  const notes = [
    `${n.toLocaleString('en-US')} idle subscribers (one connection, one subscription, one payout each); rounds: baseline ${spread('baseline')} KiB, candidate ${spread('candidate')} KiB`,
    `RSS per subscriber: ${avg('baseline', (r) => r.rssPerSubscriberKiB).toFixed(1)} → ${avg('candidate', (r) => r.rssPerSubscriberKiB).toFixed(1)} KiB; ` +
      `external (buffers): ${avg('baseline', (r) => r.externalPerSubscriberKiB).toFixed(2)} → ${avg('candidate', (r) => r.externalPerSubscriberKiB).toFixed(2)} KiB`,
    `heap left per subscriber after all closed: ${avg('baseline', (r) => r.leftPerSubscriberKiB).toFixed(2)} → ${avg('candidate', (r) => r.leftPerSubscriberKiB).toFixed(2)} KiB`,
  ];
  return {
    id: 'heap',
    title: 'heap per idle subscriber (KiB, after GC)',
    baseline: base.toFixed(2),
    candidate: cand.toFixed(2),
    ratio: fmtRatio(cand / base),
    latency: '—',
    target: `≤ ${HEAP_PER_SUBSCRIBER_TARGET_KIB} KiB`,
    pass: clean && of('candidate').length === rounds && cand <= HEAP_PER_SUBSCRIBER_TARGET_KIB,
    values: { subscribers: n, baselineKiB: base, candidateKiB: cand },
    notes,
    rounds: runs,
  };
}
