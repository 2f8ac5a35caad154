import { builder } from './builder.js';
import { GATEWAYS, PAYOUT_STATUSES } from '../zopay/types.js';

const STATUS_DESCRIPTIONS: Record<(typeof PAYOUT_STATUSES)[number], string> = {
  PENDING: 'Accepted by ZoPay, not yet sent to the mobile-money provider.',
  PROCESSING: 'Being processed by the mobile-money provider.',
  SUCCESS: 'Paid to the recipient. Final.',
  FAILED: 'Not paid; see `failure`. Final.',
  CANCELLED: 'Cancelled before payment. Final.',
};

export const PayoutStatusEnum = builder.enumType('PayoutStatus', {
  description: 'Where a payout is in its life cycle. SUCCESS, FAILED and CANCELLED are final.',
  values: Object.fromEntries(PAYOUT_STATUSES.map((s) => [s, { value: s, description: STATUS_DESCRIPTIONS[s] }])) as {
    [K in (typeof PAYOUT_STATUSES)[number]]: { value: K; description: string };
  },
});

export const PaymentGatewayEnum = builder.enumType('PaymentGateway', {
  description: 'The mobile-money network that delivers the payout.',
  values: {
    MTN_MOMO: { value: GATEWAYS[0], description: 'MTN Mobile Money.' },
    ORANGE_MONEY: { value: GATEWAYS[1], description: 'Orange Money.' },
  } as const,
});
