import DataLoader from 'dataloader';
import type { Viewer } from './auth/viewer.js';
import type { PayoutService } from './services/payouts.js';
import type { Payout } from './zopay/types.js';

export interface Loaders {
  /** One upstream GET per payout id per operation (or subscription event), batched. */
  readonly payout: DataLoader<string, Payout | null>;
}

/** Per-operation context. Loaders never outlive an operation or a subscription event. */
export interface GraphQLContext {
  viewer: Viewer | null;
  payouts: PayoutService;
  loaders: Loaders;
  /**
   * Fresh loaders: called as every subscription event starts, so that no event reads another's cache (a
   * snapshot the subscribe step read through the loaders is a whole payout: its event needs no read),
   * and a fresh upstream deadline: each event is an operation of its own.
   */
  renewLoaders(): void;
  requestId: string;
  /**
   * A subscription setup slot the transport already took for this operation (graphql-ws takes it before
   * any GraphQL work on the frame); the payoutStatus resolver uses it instead of taking another.
   */
  setupSlot: (() => void) | undefined;
  /**
   * Over HTTP (SSE included): the request's signal, aborted when the client goes away. Undefined over
   * graphql-ws, which ends a subscription through its iterator's `return()`.
   */
  clientGone: (() => AbortSignal) | undefined;
  /** Set when the operation's execute answered with its key's earlier answer (no work of its own). */
  idempotentReplay?: boolean;
}

/**
 * An operation's loaders, built on first use (a mutation that reads nothing, or a subscription whose
 * events need nothing upstream, holds none) and renewed for every subscription event.
 * Between events a subscription keeps the last event's loader and what it read (one payout). The
 * laziness lives on this object, not on the context: Yoga merges the context we build into its own with
 * `Object.assign`, which reads a getter once and stores its value, so a lazy `loaders` getter on the
 * context would build a DataLoader for every operation and could never be renewed.
 */
class OperationLoaders implements Loaders {
  #payout: DataLoader<string, Payout | null> | undefined;
  readonly #payouts: PayoutService;

  constructor(payouts: PayoutService) {
    this.#payouts = payouts;
  }

  get payout(): DataLoader<string, Payout | null> {
    return (this.#payout ??= new DataLoader<string, Payout | null>((ids) => this.#payouts.fetchPayouts(ids), { maxBatchSize: 25 }));
  }

  renew(): void {
    this.#payout = undefined;
  }
}

export function createContext(opts: { viewer: Viewer | null; payouts: PayoutService; requestId: string; clientGone?: () => AbortSignal }): GraphQLContext {
  const loaders = new OperationLoaders(opts.payouts);
  return {
    viewer: opts.viewer,
    payouts: opts.payouts,
    requestId: opts.requestId,
    setupSlot: undefined,
    clientGone: opts.clientGone,
    loaders,
    renewLoaders: () => {
      loaders.renew();
      opts.payouts.restartOperation();
    },
  };
}
