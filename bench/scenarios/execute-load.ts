/**
 * The executeDisbursement load shared by the throughput and the latency scenarios: every request pays a
 * quote the gateway knows (from a pool created through the gateway's createQuote) under an idempotency
 * key never used before, so every request is a new payout all the way to the upstream.
 */
import { BENCH_MSISDN, type BenchContext, type Side } from '../lib/context.js';
import { checkExecuteAnswer, createQuotePool, EXECUTE_MUTATION } from '../lib/gateway-api.js';
import type { LoadSpec } from '../lib/load.js';
import { BASELINE_PATHS } from '../baseline.js';

export const QUOTE_POOL_SIZE = 200;

export interface ExecuteLoad {
  specs: Record<Side, LoadSpec>;
}

export async function prepareExecuteLoad(ctx: BenchContext, scenario: string): Promise<ExecuteLoad> {
  const quotes = await createQuotePool(ctx, QUOTE_POOL_SIZE);
  ctx.log(`  ${scenario.padEnd(9)} ${quotes.length} quotes created through the gateway`);
  let seq = 0;
  const next = () => {
    const i = seq++;
    return { quoteId: quotes[i % quotes.length] as string, idempotencyKey: `${ctx.runTag}-${scenario}-${i}` };
  };
  return {
    specs: {
      candidate: {
        origin: ctx.gateway.url,
        path: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.token}` },
        build: () => {
          const { quoteId, idempotencyKey } = next();
          const input = { quoteId, idempotencyKey, recipient: { msisdn: BENCH_MSISDN } };
          return { body: JSON.stringify({ query: EXECUTE_MUTATION, variables: { input } }) };
        },
        check: checkExecuteAnswer,
      },
      baseline: {
        origin: ctx.baseline.url,
        path: BASELINE_PATHS.execute,
        headers: { 'content-type': 'application/json' },
        build: () => {
          const { quoteId, idempotencyKey } = next();
          return { body: JSON.stringify({ quoteId, idempotencyKey, msisdn: BENCH_MSISDN }) };
        },
        check: checkExecuteAnswer,
      },
    },
  };
}
