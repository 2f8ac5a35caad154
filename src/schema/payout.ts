import { builder } from './builder.js';
import { PaymentGatewayEnum, PayoutStatusEnum } from './enums.js';
import { isFinalStatus, type Payout, type PayoutFailure } from '../zopay/types.js';
import type { GraphQLContext } from '../context.js';

export const RecipientType = builder.objectRef<{ msisdn: string }>('Recipient').implement({
  description: 'Who receives the money.',
  fields: (t) => ({
    msisdn: t.expose('msisdn', { type: 'Msisdn', description: 'The recipient phone number (E.164).' }),
  }),
});

export const PayoutFailureType = builder.objectRef<PayoutFailure>('PayoutFailure').implement({
  description: 'Why a payout failed.',
  fields: (t) => ({
    code: t.string({ nullable: true, description: 'ZoPay failure code when it gave one.', resolve: (f) => f.code ?? null }),
    message: t.exposeString('message', { description: 'ZoPay failure reason.' }),
  }),
});

type DetailKey = Exclude<keyof Payout, 'id' | 'status' | 'rawStatus' | 'source'>;

/**
 * A field ZoPay may not have sent with this snapshot (execute and webhooks carry fewer fields than
 * GET): taken from the parent when present, else from one per-operation GET through the loader.
 */
function detail<K extends DetailKey>(p: Payout, key: K, ctx: GraphQLContext): Payout[K] | null | Promise<Payout[K] | null> {
  // Synchronous when the snapshot has it: the whole selection then executes without a promise, and a
  // subscription event can be written in its own turn (realtime/shared-execution.ts).
  if (p[key] !== undefined) return p[key];
  return ctx.loaders.payout.load(p.id).then((full) => full?.[key] ?? null);
}

export const PayoutType = builder.objectRef<Payout>('Payout').implement({
  description: 'A disbursement to a mobile-money wallet, as last known to the gateway.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'ZoPay payout id.' }),
    status: t.field({ type: PayoutStatusEnum, description: 'Current status.', resolve: (p) => p.status }),
    isFinal: t.boolean({
      description: 'True for SUCCESS, FAILED and CANCELLED: the status will never change again.',
      resolve: (p) => isFinalStatus(p.status),
    }),
    gateway: t.field({ type: PaymentGatewayEnum, nullable: true, description: 'Mobile-money network.', resolve: (p, _a, ctx) => detail(p, 'gateway', ctx) }),
    amount: t.field({ type: 'Decimal', nullable: true, description: 'What the recipient receives.', resolve: (p, _a, ctx) => detail(p, 'amount', ctx) }),
    currency: t.string({ nullable: true, description: 'ISO-4217 currency code, e.g. XAF.', resolve: (p, _a, ctx) => detail(p, 'currency', ctx) }),
    recipient: t.field({
      type: RecipientType,
      nullable: true,
      description: 'Who receives the money.',
      resolve: (p, _a, ctx) => {
        const toRecipient = (msisdn: string | null | undefined) => (msisdn ? { msisdn } : null);
        const msisdn = detail(p, 'recipientMsisdn', ctx);
        return msisdn instanceof Promise ? msisdn.then(toRecipient) : toRecipient(msisdn);
      },
    }),
    gatewayReference: t.string({ nullable: true, description: 'The mobile-money provider reference.', resolve: (p, _a, ctx) => detail(p, 'gatewayReference', ctx) }),
    correlationId: t.string({ nullable: true, description: 'ZoPay correlation id, for support requests.', resolve: (p) => p.correlationId ?? null }),
    gatewayFee: t.field({ type: 'Decimal', nullable: true, description: 'Provider fee.', resolve: (p, _a, ctx) => detail(p, 'gatewayFee', ctx) }),
    platformFee: t.field({ type: 'Decimal', nullable: true, description: 'ZoPay fee.', resolve: (p, _a, ctx) => detail(p, 'platformFee', ctx) }),
    totalAmount: t.field({ type: 'Decimal', nullable: true, description: 'Amount plus fees: what the merchant wallet is debited.', resolve: (p, _a, ctx) => detail(p, 'totalAmount', ctx) }),
    createdAt: t.field({ type: 'DateTime', nullable: true, description: 'When ZoPay created the payout.', resolve: (p, _a, ctx) => detail(p, 'createdAt', ctx) }),
    completedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the payout reached a final status; null before.',
      resolve: (p, _a, ctx) => {
        if (!isFinalStatus(p.status)) return null;
        // A final snapshot may carry `null` from an earlier, non-final read: look it up then.
        return p.completedAt ?? ctx.loaders.payout.load(p.id).then((full) => full?.completedAt ?? null);
      },
    }),
    failure: t.field({
      type: PayoutFailureType,
      nullable: true,
      description: 'Why the payout failed; null unless status is FAILED.',
      resolve: (p, _a, ctx) => {
        if (p.status !== 'FAILED') return null;
        // ZoPay's webhook gives the reason only; its read of the payout gives the code clients branch
        // on. One read, shared with the other fields the webhook lacks (completedAt); if it fails, the
        // reason alone rather than an error.
        const known = p.failure;
        if (known && known.code === undefined) {
          return ctx.loaders.payout.load(p.id).then(
            (full) => full?.failure ?? known,
            () => known,
          );
        }
        return detail(p, 'failure', ctx);
      },
    }),
  }),
});

export const PayoutFilterInput = builder.inputType('PayoutFilter', {
  description: 'Narrows a payouts listing. Filters combine with AND.',
  fields: (t) => ({
    status: t.field({ type: PayoutStatusEnum, required: false, description: 'Only payouts in this status.' }),
    gateway: t.field({ type: PaymentGatewayEnum, required: false, description: 'Only payouts on this network.' }),
    createdAfter: t.field({ type: 'DateTime', required: false, description: 'Created at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', required: false, description: 'Created at or before this instant.' }),
  }),
});
