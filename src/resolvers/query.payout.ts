import { builder } from '../schema/builder.js';
import { PayoutType } from '../schema/payout.js';
import { PAYOUT_ID } from '../schema/ids.js';
import { requireViewer } from './viewer.js';

builder.queryField('payout', (t) =>
  t.field({
    type: PayoutType,
    nullable: true,
    description: 'One payout by id; null when it does not exist or the caller may not see it.',
    authScopes: { read: true, write: true },
    args: { id: t.arg.id({ required: true, description: 'ZoPay payout id.', validate: { schema: PAYOUT_ID } }) },
    resolve: (_root, { id }, ctx) => ctx.payouts.findVisible(requireViewer(ctx), id, (pid) => ctx.loaders.payout.load(pid)),
  }),
);
