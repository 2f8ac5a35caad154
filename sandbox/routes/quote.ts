/**
 * POST /api/v1/disbursements/quote and POST /api/v1/wallets/quote (§3.1, §3.2, §9 #1, #2, #23): fees
 * locked for 15 minutes, single use. `merchant_id` from the older docs variant is accepted and ignored:
 * the merchant comes from the API key.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { GATEWAYS } from '../../src/zopay/types.js';
import { feeOf, parseAmount } from '../money.js';
import { QUOTE_VALIDITY_MS } from '../options.js';
import { ERROR_CODES, errorReply, ok, validationReply, type Reply } from '../reply.js';
import { checkMsisdn } from '../test-numbers.js';
import { quoteResponse } from '../views.js';
import { fieldErrors, type ApiContext, type ApiRequest } from './context.js';

const QuoteBody = z.object({
  gateway: z.enum(GATEWAYS, { message: `must be one of ${GATEWAYS.join(', ')}` }),
  transaction_type: z.literal('DISBURSEMENT', { message: 'must be "DISBURSEMENT" (the sandbox simulates payouts only)' }),
  amount: z.string({ message: 'must be a decimal string' }),
  currency: z.string({ message: 'must be a string' }).regex(/^[A-Z]{3}$/, 'must be a 3-letter upper-case code such as "XAF"'),
  recipient: z.object({ msisdn: z.string({ message: 'must be an E.164 string such as "+237670000001"' }) }),
});

export function quoteRoute(ctx: ApiContext, req: ApiRequest): Reply {
  const parsed = QuoteBody.safeParse(req.body);
  if (!parsed.success) return validationReply(fieldErrors(parsed.error));
  const { gateway, currency, recipient } = parsed.data;

  const amount = parseAmount(parsed.data.amount, currency);
  if (!amount.ok) return validationReply({ amount: [amount.reason] });
  const number = checkMsisdn(recipient.msisdn, gateway);
  if (!number.ok) return errorReply(400, ERROR_CODES.INVALID_MSISDN, number.reason);

  const now = ctx.opts.now();
  const quote = {
    id: randomUUID(),
    gateway,
    amount: amount.minor,
    currency,
    msisdn: recipient.msisdn,
    gatewayFee: feeOf(amount.minor, ctx.opts.gatewayFeeBps, currency),
    platformFee: feeOf(amount.minor, ctx.opts.platformFeeBps, currency),
    createdAt: now,
    expiresAt: now + QUOTE_VALIDITY_MS,
    usedBy: null,
  };
  ctx.ledger.sweep(now);
  ctx.ledger.addQuote(quote);
  return ok(quoteResponse(quote));
}
