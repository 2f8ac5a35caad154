/**
 * GET /api/v1/disbursements/:id (§3.4). The look-up is what "completes on first check" means for the
 * sandbox test numbers: a resolvable payout reaches its final status here (and fires its webhook).
 */
import { ERROR_CODES, errorReply, ok, type Reply } from '../reply.js';
import { payoutResource } from '../views.js';
import type { ApiContext, ApiRequest } from './context.js';

export function getRoute(ctx: ApiContext, req: ApiRequest): Reply {
  const payout = ctx.ledger.payout(req.params['id'] ?? '');
  if (!payout) return errorReply(404, ERROR_CODES.NOT_FOUND, 'Payout not found');
  ctx.lifecycle.checked(payout);
  return ok({ payout: payoutResource(payout) });
}
