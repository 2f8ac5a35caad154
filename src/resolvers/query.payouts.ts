import { builder } from '../schema/builder.js';
import { PayoutFilterInput, PayoutType } from '../schema/payout.js';
import { badUserInputError } from '../services/infra-errors.js';
import { decodeCursor, encodeCursor } from '../schema/cursor.js';
import { requireViewer } from './viewer.js';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many payouts match, across all pages.', resolve: (c) => c.totalCount }),
);

builder.queryField('payouts', (t) =>
  t.connection(
    {
      type: PayoutType,
      description:
        'Payouts, newest first. With `payouts:read` every payout of the merchant; otherwise only the payouts this caller executed.',
      authScopes: { read: true, write: true },
      args: { filter: t.arg({ type: PayoutFilterInput, required: false, description: 'Optional filters.' }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) {
          throw badUserInputError('Backward pagination is not supported; use first/after.', [{ path: 'last', message: 'not supported' }]);
        }
        const first = args.first ?? DEFAULT_PAGE_SIZE;
        if (first < 1 || first > MAX_PAGE_SIZE) {
          throw badUserInputError(`first must be between 1 and ${MAX_PAGE_SIZE}`, [{ path: 'first', message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
        }
        const offset = args.after == null ? 0 : decodeCursor(args.after) + 1;
        const f = args.filter;
        const page = await ctx.payouts.listPayouts(requireViewer(ctx), {
          first,
          offset,
          filter: {
            ...(f?.status ? { status: f.status } : {}),
            ...(f?.gateway ? { gateway: f.gateway } : {}),
            ...(f?.createdAfter ? { createdAfter: f.createdAfter } : {}),
            ...(f?.createdBefore ? { createdBefore: f.createdBefore } : {}),
          },
        });
        // A list item is a complete snapshot, but for a FAILED payout's failure code (ZoPay's list carries
        // none): prime the loader so nested reads cost nothing, and let `failure` read what it lacks, once
        // per payout as for payout(id) (within the read share; past it, the code is null).
        for (const { payout } of page.items) {
          if (!(payout.status === 'FAILED' && payout.failure?.code === undefined)) ctx.loaders.payout.prime(payout.id, payout);
        }
        // A cursor is the item's position in the list paged over (ZoPay's offset), not its index in
        // this page: the gateway may drop listed items it knows have left the filter.
        const edges = page.items.map(({ payout, position }) => ({ node: payout, cursor: encodeCursor(position) }));
        // A page whose every row was dropped still moves on: its endCursor is the last row it read.
        const resumeAfter = page.hasNextPage && page.lastRead !== undefined ? encodeCursor(page.lastRead) : null;
        return {
          edges,
          totalCount: page.totalCount,
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: offset > 0,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: edges.at(-1)?.cursor ?? resumeAfter,
          },
        };
      },
    },
    { name: 'PayoutConnection', description: 'A page of payouts.' },
    { name: 'PayoutEdge', description: 'A payout and its cursor.' },
  ),
);
