import { builder } from '../schema/builder.js';
import { ExecuteDisbursementInput } from '../schema/quote.js';
import { PayoutType } from '../schema/payout.js';
import '../schema/errors.js';
import {
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  InsufficientBalanceError,
  InvalidRecipientError,
  PayoutRejectedError,
  QuoteAlreadyUsedError,
  QuoteExpiredError,
  QuoteNotFoundError,
} from '../services/errors.js';
import { requireViewer } from './viewer.js';

builder.mutationField('executeDisbursement', (t) =>
  t.field({
    type: PayoutType,
    description:
      'Pay out a quote. Idempotent per (caller, idempotencyKey): retrying with the same key and input returns the same payout and never pays twice.',
    authScopes: { write: true },
    args: { input: t.arg({ type: ExecuteDisbursementInput, required: true, description: 'The quote to pay and your idempotency key.' }) },
    errors: {
      types: [
        QuoteExpiredError,
        QuoteNotFoundError,
        QuoteAlreadyUsedError,
        IdempotencyKeyReusedError,
        IdempotencyKeyInProgressError,
        InsufficientBalanceError,
        InvalidRecipientError,
        PayoutRejectedError,
      ],
      union: { name: 'ExecuteDisbursementResult', description: 'The payout, or the business reason it was not made.' },
    },
    resolve: (_root, { input }, ctx) =>
      ctx.payouts.executeDisbursement(
        requireViewer(ctx),
        { quoteId: input.quoteId, idempotencyKey: input.idempotencyKey, recipientMsisdn: input.recipient.msisdn },
        // The answer then carries `extensions.idempotentReplay` (http/yoga.ts).
        () => {
          ctx.idempotentReplay = true;
        },
      ),
  }),
);
