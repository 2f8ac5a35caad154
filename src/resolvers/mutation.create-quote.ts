import { builder } from '../schema/builder.js';
import { CreateQuoteInput, QuoteType } from '../schema/quote.js';
import '../schema/errors.js';
import { InvalidRecipientError, QuoteRejectedError } from '../services/errors.js';
import { requireViewer } from './viewer.js';

builder.mutationField('createQuote', (t) =>
  t.field({
    type: QuoteType,
    description: 'Quote a payout: fees are locked for 15 minutes and the quote can be executed once.',
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateQuoteInput, required: true, description: 'What to quote.' }) },
    errors: {
      types: [InvalidRecipientError, QuoteRejectedError],
      union: { name: 'CreateQuoteResult', description: 'The quote, or why ZoPay would not quote.' },
    },
    resolve: (_root, { input }, ctx) => {
      return ctx.payouts.createQuote(requireViewer(ctx), {
        gateway: input.gateway,
        amount: input.amount,
        currency: input.currency,
        recipientMsisdn: input.recipient.msisdn,
      });
    },
  }),
);
