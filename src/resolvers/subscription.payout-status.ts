import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { builder, invalidInput } from '../schema/builder.js';
import { PayoutType } from '../schema/payout.js';
import { PAYOUT_ID } from '../schema/ids.js';
import type { Payout } from '../zopay/types.js';
import { requireViewer } from './viewer.js';

export function payoutNotFound(): GraphQLError {
  return new GraphQLError('No payout with this id.', { extensions: { code: 'NOT_FOUND' } });
}

/**
 * Checked in `subscribe` rather than with the argument's `validate`: plugin-zod would also wrap the
 * per-event `resolve` in an asynchronous re-check of the same arguments, so every event's execution
 * would become a promise and could not be written in the event's own turn (realtime/shared-execution.ts).
 */
const ARGS = z.object({ payoutId: PAYOUT_ID });

builder.subscriptionField('payoutStatus', (t) =>
  t.field({
    type: PayoutType,
    description:
      'First event: the payout as it is now. Then one event per status change, in order, never going back. ' +
      'Completes right after the final status (SUCCESS, FAILED or CANCELLED).',
    authScopes: { read: true, write: true },
    args: { payoutId: t.arg.id({ required: true, description: 'ZoPay payout id.' }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const parsed = ARGS.safeParse(args);
      if (!parsed.success) throw invalidInput(parsed.error);
      const { payoutId } = parsed.data;
      // Authorized before anything is subscribed: someone else's payout looks like a missing one.
      const stream = await ctx.payouts.openStatusStream(viewer, payoutId, (id) => ctx.loaders.payout.load(id), payoutNotFound, ctx.setupSlot);
      // An SSE client that left while the stream was being set up is never told, nor is its stream
      // ever pulled: end it here, or its watch (and per-caller count) would last until the token expires.
      const gone = ctx.clientGone?.();
      if (gone?.aborted) void stream.return?.();
      else gone?.addEventListener('abort', () => void stream.return?.(), { once: true });
      return stream;
    },
    resolve: (payout: Payout, _args, ctx) => {
      // Each event reads through fresh loaders: no event sees another's cached upstream data.
      ctx.renewLoaders();
      return payout;
    },
  }),
);
