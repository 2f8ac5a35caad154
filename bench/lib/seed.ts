/**
 * PROCESSING payouts written into Redis with the gateway's own store code: what executeDisbursement
 * leaves behind, so a webhook for one of them advances it to SUCCESS and publishes.
 */
import { createRedisStores } from '../../src/stores/redis/index.js';
import type { Payout } from '../../src/zopay/types.js';
import { BENCH_MSISDN, type BenchContext } from './context.js';

const BATCH = 2_000;

export async function seedProcessing(ctx: BenchContext, ids: readonly string[]): Promise<void> {
  const stores = createRedisStores({ redis: ctx.redisClient, prefix: ctx.redisPrefix, clock: Date });
  const createdAt = new Date().toISOString();
  for (let i = 0; i < ids.length; i += BATCH) {
    await Promise.all(
      ids.slice(i, i + BATCH).map((id) => {
        const p: Payout = {
          id,
          status: 'PROCESSING',
          rawStatus: 'PROCESSING',
          source: 'execute',
          gateway: 'MTN_MOMO',
          amount: '5000',
          currency: 'XAF',
          recipientMsisdn: BENCH_MSISDN,
          createdAt,
        };
        return stores.payouts.apply(p);
      }),
    );
  }
}
