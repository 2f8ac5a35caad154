import { GraphQLError } from 'graphql';
import { builder } from '../schema/builder.js';
import { PayoutType } from '../schema/payout.js';
import { PAYOUT_ID } from '../schema/ids.js';
import type { Payout } from '../zopay/types.js';
import { requireViewer } from './viewer.js';

export function payoutNotFound(): GraphQLError {
  return new GraphQLError('No payout with this id.', { extensions: { code: 'NOT_FOUND' } });
}

builder.subscriptionField('payoutStatus', (t) =>
  t.field({
    type: PayoutType,
    description:
      'First event: the payout as it is now. Then one event per status change, in order, never going back. ' +
      'Completes right after the final status (SUCCESS, FAILED or CANCELLED).',
    authScopes: { authenticated: true },
    args: { payoutId: t.arg.id({ required: true, description: 'ZoPay payout id.', validate: { schema: PAYOUT_ID } }) },
    subscribe: async (_root, { payoutId }, ctx) => {
      const viewer = requireViewer(ctx);
      // Authorized before anything is subscribed: someone else's payout looks like a missing one.
      return ctx.payouts.openStatusStream(viewer, payoutId, (id) => ctx.loaders.payout.load(id), payoutNotFound, ctx.setupSlot);
    },
    resolve: (payout: Payout, _args, ctx) => {
      // Each event reads through fresh loaders: no event sees another's cached upstream data.
      ctx.renewLoaders();
      return payout;
    },
  }),
);
