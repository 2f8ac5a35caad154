/**
 * (4) Upstream reads.
 *
 * One query naming the same payout K times (aliases) must cost one upstream GET. Each repetition
 * executes a fresh payout through the gateway (so it is PROCESSING, owned by the bench caller, and not a
 * complete final record the gateway could serve without asking), resets the stub's counters, sends the
 * query and reads the counters. Baseline: K, what resolving each field on its own would cost.
 *
 * N subscribers of one pending payout must cost at most one reconcile GET per interval. N graphql-ws
 * subscriptions (the per-caller cap, spread over connections of at most the per-connection cap) watch a
 * fresh PROCESSING payout; once all have their snapshot the stub's counters are reset and the bench
 * waits whole reconcile intervals of the gateway (RECONCILE_INTERVAL_MS, its default here). A window of
 * that length holds at most one tick more than its whole intervals: that many GETs pass. Baseline: one
 * GET per subscriber per interval, what polling per subscription would cost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { BenchContext } from '../lib/context.js';
import { wsUrl } from '../lib/fleet.js';
import { createQuote, executeViaGateway, graphql, stubCounts } from '../lib/gateway-api.js';
import type { ScenarioRow } from '../lib/report.js';
import { GRAPHQL_TRANSPORT_WS, subscribeFrame } from '../lib/ws-protocol.js';

export async function upstreamReads(ctx: BenchContext): Promise<ScenarioRow[]> {
  return [await aliasReads(ctx), await reconcileReads(ctx)];
}

async function aliasReads(ctx: BenchContext): Promise<ScenarioRow> {
  const { k } = ctx.options;
  const reps = ctx.options.quick ? 2 : 5;
  const perQuery: number[] = [];
  const others: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const payoutId = await executeViaGateway(ctx, await createQuote(ctx), `${ctx.runTag}-reads-${rep}`);
    const aliases = Array.from({ length: k }, (_, i) => `p${i}: payout(id: $id) { id status isFinal amount gatewayFee }`).join(' ');
    const query = `query Payout($id: ID!) { ${aliases} }`;
    await stubCounts(ctx, true);
    const answer = await graphql(ctx, query, { id: payoutId });
    const counts = await stubCounts(ctx);
    perQuery.push(counts.get);
    others.push(counts.quote + counts.execute + counts.list + counts.unauthorized + counts.invalid + counts.notFound);
    const data = answer.json?.data ?? {};
    const wrong = Array.from({ length: k }, (_, i) => data[`p${i}`] as { id?: string } | null | undefined).filter((p) => p?.id !== payoutId);
    if (answer.status !== 200 || answer.json?.errors || wrong.length > 0) {
      ctx.problems.push({
        scenario: 'reads',
        side: 'candidate',
        round: rep + 1,
        message: `the payout query did not return the payout under all ${k} aliases`,
        sample: { request: JSON.stringify({ query, variables: { id: payoutId } }), status: answer.status, response: answer.text.slice(0, 2_000), problem: 'wrong answer' },
      });
    }
    ctx.log(`  reads     candidate rep ${rep + 1}: ${counts.get} upstream GET(s) for ${k} mentions`);
  }
  const worst = Math.max(...perQuery);
  const notes = [`GETs per query over ${reps} queries: ${perQuery.join(', ')}`];
  if (others.some((n) => n > 0)) notes.push(`other upstream calls during the queries: ${others.join(', ')}`);
  return {
    id: 'reads',
    title: `upstream GETs for one payout named ${k}× in a query`,
    baseline: String(k),
    candidate: String(worst),
    ratio: `${(worst / k).toFixed(2)}×`,
    latency: '—',
    target: '1 GET',
    pass: worst <= 1 && others.every((n) => n === 0),
    values: { k, worstGetsPerQuery: worst },
    notes,
    rounds: perQuery.map((gets, i) => ({ rep: i + 1, gets })),
  };
}

/** Subscribers of one pending payout, from the bench caller's token: every one of them must be its owner. */
async function reconcileReads(ctx: BenchContext): Promise<ScenarioRow> {
  const { reconcileIntervalMs: intervalMs, subscriptionsPerCaller: n, wsMaxSubscriptionsPerConnection: perConnection } = ctx.gatewayConfig;
  const intervals = ctx.options.quick ? 1 : 2;
  const payoutId = await executeViaGateway(ctx, await createQuote(ctx), `${ctx.runTag}-reconcile`);
  const watchers = await watchPayout(ctx, payoutId, n, perConnection);
  let gets: number;
  let others: number;
  const windowMs = intervals * intervalMs;
  try {
    await stubCounts(ctx, true);
    await sleep(windowMs);
    const counts = await stubCounts(ctx);
    gets = counts.get;
    others = counts.quote + counts.execute + counts.list + counts.unauthorized + counts.invalid + counts.notFound;
  } finally {
    watchers.close();
  }
  const trouble = watchers.trouble();
  if (trouble.length > 0) {
    ctx.problems.push({ scenario: 'reads', side: 'candidate', message: `reconcile: the subscriptions did not stay open and quiet: ${trouble.slice(0, 5).join('; ')}` });
  }
  // A window of whole intervals holds that many reconciler ticks, or one more when it starts just before one.
  const allowed = intervals + 1;
  const perInterval = gets / intervals;
  ctx.log(`  reads     candidate: ${gets} upstream GET(s) in ${windowMs / 1000} s (${intervals} reconcile interval(s)) for ${n} subscribers of one PROCESSING payout`);
  return {
    id: 'reads:reconcile',
    title: `reconcile GETs per interval for ${n} subscribers of one pending payout`,
    baseline: String(n),
    candidate: perInterval.toFixed(1),
    ratio: `${(perInterval / n).toFixed(3)}×`,
    latency: '—',
    target: '≤ 1 GET per interval',
    pass: gets <= allowed && others === 0 && trouble.length === 0,
    values: { subscribers: n, intervalMs, windowMs, gets, allowed },
    notes: [
      `${n} graphql-ws subscriptions (${Math.ceil(n / perConnection)} connections) to one PROCESSING payout, all with their snapshot; ` +
        `upstream GETs in the next ${windowMs / 1000} s (${intervals} × RECONCILE_INTERVAL_MS = ${intervalMs} ms): ${gets}, ` +
        `at most ${allowed} allowed (a window of ${intervals} whole intervals holds ${intervals} or ${allowed} reconciler ticks); baseline: one GET per subscriber per interval`,
      ...(others > 0 ? [`other upstream calls during the window: ${others}`] : []),
    ],
    rounds: [{ gets, windowMs }],
  };
}

interface Watchers {
  /** What went wrong since the snapshots: an error or complete frame, a close, a socket error. */
  trouble(): string[];
  close(): void;
}

/**
 * `n` payoutStatus subscriptions to `payoutId`, at most `perConnection` on each connection; resolves
 * once every one has its PROCESSING snapshot (a setup failure throws).
 */
async function watchPayout(ctx: BenchContext, payoutId: string, n: number, perConnection: number): Promise<Watchers> {
  const sockets: WebSocket[] = [];
  const trouble: string[] = [];
  let settled = false;
  const setups: Promise<void>[] = [];
  for (let first = 0; first < n; first += perConnection) {
    const ids = Array.from({ length: Math.min(perConnection, n - first) }, (_, i) => `r${first + i}`);
    const ws = new WebSocket(wsUrl(ctx.gateway), GRAPHQL_TRANSPORT_WS, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    sockets.push(ws);
    setups.push(
      new Promise<void>((resolve, reject) => {
        const waiting = new Set(ids);
        const fail = (why: string) => {
          if (settled) trouble.push(why);
          else reject(new Error(`reconcile setup: ${why}`));
        };
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ctx.token}` } })));
        ws.on('message', (data: Buffer) => {
          let frame: { type: string; id?: string; payload?: { data?: { payoutStatus?: { status?: string } } } };
          try {
            frame = JSON.parse(data.toString('utf8')) as typeof frame;
          } catch {
            return fail(`a frame that is not JSON: ${data.toString('utf8').slice(0, 300)}`);
          }
          if (frame.type === 'connection_ack') {
            for (const id of ids) ws.send(subscribeFrame(id, payoutId));
          } else if (frame.type === 'next' && frame.id !== undefined && waiting.has(frame.id) && frame.payload?.data?.payoutStatus?.status === 'PROCESSING') {
            waiting.delete(frame.id);
            if (waiting.size === 0) resolve();
          } else if (frame.type !== 'ping' && frame.type !== 'pong') {
            fail(`unexpected frame ${data.toString('utf8').slice(0, 300)}`);
          }
        });
        ws.on('error', (err) => fail(`socket error ${err.message}`));
        ws.on('close', (code) => fail(`connection closed (${code})`));
      }),
    );
  }
  const timer = new AbortController();
  const timeout = sleep(30_000, undefined, { signal: timer.signal }).then(() => {
    throw new Error('reconcile setup: not every subscription had its snapshot within 30 s');
  });
  try {
    await Promise.race([Promise.all(setups), timeout]);
  } catch (err) {
    for (const ws of sockets) ws.terminate();
    throw err;
  } finally {
    timer.abort();
  }
  settled = true;
  return {
    trouble: () => [...trouble],
    close: () => {
      for (const ws of sockets) {
        ws.removeAllListeners('close');
        ws.removeAllListeners('message');
        ws.close(1000);
      }
    },
  };
}
