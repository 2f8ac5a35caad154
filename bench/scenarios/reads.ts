/**
 * (4) Upstream reads: one query naming the same payout K times (aliases) must cost one upstream GET.
 * Each repetition executes a fresh payout through the gateway (so it is PROCESSING, owned by the bench
 * caller, and not a complete final record the gateway could serve without asking), resets the stub's
 * counters, sends the query and reads the counters. Baseline: K, what resolving each field on its own
 * would cost.
 */
import type { BenchContext } from '../lib/context.js';
import { createQuote, executeViaGateway, graphql, stubCounts } from '../lib/gateway-api.js';
import type { ScenarioRow } from '../lib/report.js';

export async function upstreamReads(ctx: BenchContext): Promise<ScenarioRow> {
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
