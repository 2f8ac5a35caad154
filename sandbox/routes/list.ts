/**
 * GET /api/v1/disbursements (§3.5, §9 #21): newest first by createdAt, date bounds inclusive on createdAt,
 * `limit` clamped to 1..100 and echoed as applied, `hasMore = offset + payouts.length < total`.
 */
import { GATEWAYS, PAYOUT_STATUSES, type Gateway, type PayoutStatus } from '../../src/zopay/types.js';
import type { PayoutRecord } from '../ledger.js';
import { ok, validationReply, type Reply } from '../reply.js';
import { payoutListItem } from '../views.js';
import type { ApiContext, ApiRequest } from './context.js';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

type Filter = (p: PayoutRecord) => boolean;

const isOneOf = <T extends string>(values: readonly T[], v: string): v is T => (values as readonly string[]).includes(v);

export function listRoute(ctx: ApiContext, req: ApiRequest): Reply {
  const q = req.query;
  const errors: Record<string, string[]> = {};
  const filters: Filter[] = [];

  if (q['status'] !== undefined) {
    const status = q['status'];
    if (isOneOf<PayoutStatus>(PAYOUT_STATUSES, status)) filters.push((p) => p.status === status);
    else errors['status'] = [`must be one of ${PAYOUT_STATUSES.join(', ')}`];
  }
  if (q['gateway'] !== undefined) {
    const gateway = q['gateway'];
    if (isOneOf<Gateway>(GATEWAYS, gateway)) filters.push((p) => p.gateway === gateway);
    else errors['gateway'] = [`must be one of ${GATEWAYS.join(', ')}`];
  }
  for (const [name, keep] of [
    ['startDate', (created: number, bound: number) => created >= bound],
    ['endDate', (created: number, bound: number) => created <= bound],
  ] as const) {
    const raw = q[name];
    if (raw === undefined) continue;
    const bound = Date.parse(raw);
    if (Number.isNaN(bound)) errors[name] = ['must be an ISO 8601 date such as 2024-01-01T00:00:00Z'];
    else filters.push((p) => keep(p.createdAt, bound));
  }
  const batchId = q['batch_id'];
  if (batchId !== undefined) filters.push((p) => p.batchId === batchId);

  const limitRaw = q['limit'] ?? String(DEFAULT_LIMIT);
  if (!/^-?\d{1,9}$/.test(limitRaw)) errors['limit'] = ['must be an integer'];
  const offsetRaw = q['offset'] ?? '0';
  if (!/^\d{1,9}$/.test(offsetRaw)) errors['offset'] = ['must be a non-negative integer'];
  if (Object.keys(errors).length > 0) return validationReply(errors);

  const limit = Math.min(MAX_LIMIT, Math.max(1, Number(limitRaw)));
  const offset = Number(offsetRaw);
  // Stable sort over newest-inserted-first: equal createdAt keeps the later payout first.
  const matches = ctx.ledger
    .payoutsNewestFirst()
    .filter((p) => filters.every((f) => f(p)))
    .sort((a, b) => b.createdAt - a.createdAt);
  const page = matches.slice(offset, offset + limit);
  return ok({
    payouts: page.map(payoutListItem),
    total: matches.length,
    limit,
    offset,
    hasMore: offset + page.length < matches.length,
  });
}
