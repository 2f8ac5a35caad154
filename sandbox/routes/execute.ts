/**
 * POST /api/v1/disbursements/execute (§3.3, §9 #9–#11). Idempotency first: a known key answers from
 * its record (200 with the current status) or refuses a different body (409), before the quote is even
 * looked at, so a retry after the quote expired still gets its payout back. Rejections store nothing: a
 * retry with the same key is evaluated afresh.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Gateway } from '../../src/zopay/types.js';
import type { PayoutRecord } from '../ledger.js';
import { ERROR_CODES, errorReply, ok, validationReply, type Reply } from '../reply.js';
import { behaviourOf } from '../test-numbers.js';
import { executeResponse, totalDebit } from '../views.js';
import { fieldErrors, type ApiContext, type ApiRequest } from './context.js';

const ExecuteBody = z.object({
  quote_id: z.string({ message: 'must be a string' }).min(1, 'must not be empty').max(128),
  idempotency_key: z.string({ message: 'must be a string' }).min(1, 'must not be empty').max(255),
  recipient: z.object({ msisdn: z.string({ message: 'must be an E.164 string' }).min(1) }),
});

/** §9 #25: numbers are compared without the `+`. */
const digits = (msisdn: string) => msisdn.replace(/^\+/, '');

const REFERENCE_PREFIX: Record<Gateway, string> = { MTN_MOMO: 'MTN_REF_', ORANGE_MONEY: 'OM_REF_' };

export function executeRoute(ctx: ApiContext, req: ApiRequest): Reply {
  const parsed = ExecuteBody.safeParse(req.body);
  if (!parsed.success) return validationReply(fieldErrors(parsed.error));
  const { quote_id: quoteId, idempotency_key: key, recipient } = parsed.data;
  const now = ctx.opts.now();
  ctx.ledger.sweep(now);

  const previous = ctx.ledger.idempotency(key);
  if (previous) {
    if (previous.quoteId !== quoteId || digits(previous.msisdn) !== digits(recipient.msisdn)) {
      return errorReply(409, ERROR_CODES.IDEMPOTENCY_CONFLICT, 'idempotency_key was already used with a different request');
    }
    const payout = ctx.ledger.payout(previous.payoutId);
    if (payout) return ok(executeResponse(payout));
  }

  const quote = ctx.ledger.quote(quoteId);
  if (!quote) return errorReply(400, ERROR_CODES.QUOTE_NOT_FOUND, 'Quote not found');
  if (quote.usedBy !== null) return errorReply(409, ERROR_CODES.QUOTE_ALREADY_USED, 'Quote already used');
  if (now >= quote.expiresAt) return errorReply(400, ERROR_CODES.QUOTE_EXPIRED, 'Quote expired');
  if (digits(recipient.msisdn) !== digits(quote.msisdn)) {
    return validationReply({ 'recipient.msisdn': ['must be the msisdn the quote was created for'] });
  }
  const debit = totalDebit(quote);
  if (ctx.ledger.balance() < debit) {
    return errorReply(402, ERROR_CODES.INSUFFICIENT_BALANCE, 'Insufficient wallet balance for amount plus fees');
  }
  const behaviour = behaviourOf(quote.msisdn);
  if (!behaviour) throw new Error('quote holds a number the sandbox does not know');

  const payout: PayoutRecord = {
    id: randomUUID(),
    merchantId: ctx.ledger.merchantId,
    gateway: quote.gateway,
    amount: quote.amount,
    currency: quote.currency,
    msisdn: quote.msisdn,
    gatewayReference: `${REFERENCE_PREFIX[quote.gateway]}${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`,
    correlationId: randomUUID(),
    gatewayFee: quote.gatewayFee,
    platformFee: quote.platformFee,
    status: 'PENDING',
    createdAt: now,
    completedAt: null,
    error: null,
    idempotencyKey: key,
    quoteId,
    batchId: null,
    behaviour,
  };
  ctx.ledger.debit(debit);
  quote.usedBy = key;
  ctx.ledger.addPayout(payout, { key, quoteId, msisdn: recipient.msisdn, payoutId: payout.id, createdAt: now });
  ctx.lifecycle.start(payout);
  return ok(executeResponse(payout));
}
