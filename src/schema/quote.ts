import { z } from 'zod';
import { builder } from './builder.js';
import { PaymentGatewayEnum } from './enums.js';
import { RecipientType } from './payout.js';
import type { Gateway, Quote } from '../zopay/types.js';
import { compareDecimal, fractionDigits } from '../lib/decimal.js';

export const QuoteType = builder.objectRef<Quote>('Quote').implement({
  description: 'Locked fees for one payout. Valid until `expiresAt` and usable once.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'ZoPay quote id; pass it to executeDisbursement.' }),
    gateway: t.field({ type: PaymentGatewayEnum, description: 'Mobile-money network.', resolve: (q) => q.gateway }),
    amount: t.expose('amount', { type: 'Decimal', description: 'What the recipient receives.' }),
    currency: t.exposeString('currency', { description: 'ISO-4217 currency code.' }),
    gatewayFee: t.expose('gatewayFee', { type: 'Decimal', description: 'Provider fee.' }),
    platformFee: t.expose('platformFee', { type: 'Decimal', description: 'ZoPay fee.' }),
    merchantDebit: t.expose('merchantDebit', { type: 'Decimal', description: 'Total taken from the merchant wallet (amount + fees), positive.' }),
    recipient: t.field({ type: RecipientType, description: 'Who will receive the money.', resolve: (q) => ({ msisdn: q.recipientMsisdn }) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'After this instant the quote cannot be executed.' }),
  }),
});

export const RecipientInput = builder.inputType('RecipientInput', {
  description: 'Who receives the money.',
  fields: (t) => ({ msisdn: t.field({ type: 'Msisdn', description: 'E.164 phone number, e.g. "+237670000001".' }) }),
});

/** Currencies without minor units: amounts must be whole. */
const NO_MINOR_UNITS = new Set(['XAF', 'XOF']);
export const MAX_AMOUNT = '100000000';

export const CreateQuoteInput = builder.inputType('CreateQuoteInput', {
  description: 'What to quote: amount the recipient should receive, currency, network and recipient.',
  fields: (t) => ({
    gateway: t.field({ type: PaymentGatewayEnum, description: 'Mobile-money network.' }),
    amount: t.field({ type: 'Decimal', description: 'What the recipient receives, e.g. "5000".' }),
    currency: t.string({
      description: 'ISO-4217 code, e.g. "XAF".',
      validate: { schema: z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter upper-case ISO-4217 code') },
    }),
    recipient: t.field({ type: RecipientInput, description: 'Who receives the money.' }),
  }),
  validate: {
    schema: z.custom<{ gateway: Gateway; amount: string; currency: string; recipient: { msisdn: string } }>().superRefine((i, ctx) => {
      const problem = amountProblem(i.amount, i.currency);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['amount'] });
    }),
  },
});

function amountProblem(amount: string, currency: string): string | undefined {
  if (compareDecimal(amount, '0') <= 0) return 'amount must be greater than 0';
  if (compareDecimal(amount, MAX_AMOUNT) > 0) return `amount must be at most ${MAX_AMOUNT}`;
  if (NO_MINOR_UNITS.has(currency) && /\.\d*[1-9]/.test(amount)) {
    return `${currency} has no minor units: amount must be a whole number`;
  }
  if (fractionDigits(amount) > 2) return 'amount may have at most 2 decimal places';
  return undefined;
}

/** Idempotency keys: 1–255 printable ASCII characters (0x20–0x7E). */
export const IDEMPOTENCY_KEY = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x20-\x7e]*$/, 'must contain printable ASCII characters only');

export const ExecuteDisbursementInput = builder.inputType('ExecuteDisbursementInput', {
  description: 'Pay out a quote. Repeat with the same idempotencyKey to retry safely.',
  fields: (t) => ({
    quoteId: t.id({ description: 'The id of a quote you created.', validate: { schema: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces') } }),
    idempotencyKey: t.string({
      description: 'Your unique key for this payout (1–255 printable ASCII). The same key with the same input never pays twice.',
      validate: { schema: IDEMPOTENCY_KEY },
    }),
    recipient: t.field({ type: RecipientInput, description: 'Must be the quote recipient.' }),
  }),
});
