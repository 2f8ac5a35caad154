import DataLoader from 'dataloader';
import type { Viewer } from './auth/viewer.js';
import type { PayoutService } from './services/payouts.js';
import type { Payout } from './zopay/types.js';

export interface Loaders {
  /** One upstream GET per payout id per operation (or subscription event), batched. */
  payout: DataLoader<string, Payout | null>;
}

/** Per-operation context. Loaders never outlive an operation or a subscription event. */
export interface GraphQLContext {
  viewer: Viewer | null;
  payouts: PayoutService;
  loaders: Loaders;
  /** Fresh loaders: called for every subscription event so that no event reads another's cache. */
  renewLoaders(): void;
  requestId: string;
  /**
   * A subscription setup slot the transport already took for this operation (graphql-ws takes it before
   * any GraphQL work on the frame); the payoutStatus resolver uses it instead of taking another.
   */
  setupSlot: (() => void) | undefined;
}

export function createLoaders(payouts: PayoutService): Loaders {
  return {
    payout: new DataLoader<string, Payout | null>((ids) => payouts.fetchPayouts(ids), { maxBatchSize: 25 }),
  };
}

export function createContext(opts: { viewer: Viewer | null; payouts: PayoutService; requestId: string }): GraphQLContext {
  // Loaders are built on first use: an idle subscription holds none.
  let loaders: Loaders | undefined;
  return {
    viewer: opts.viewer,
    payouts: opts.payouts,
    requestId: opts.requestId,
    setupSlot: undefined,
    get loaders(): Loaders {
      return (loaders ??= createLoaders(opts.payouts));
    },
    renewLoaders() {
      loaders = undefined;
    },
  };
}
