/**
 * What the subscription scenarios send and expect over graphql-transport-ws, shared by the subscriber
 * fleet (subscribers.ts), the raw `ws` baseline (ws-baseline.ts) and the bare graphql-ws server
 * (graphql-ws-bare.ts), so that every side speaks and is checked against the same frames.
 */

export const WS_PATH = '/graphql';
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

/** The subscription every client sends; its selection fixes the field order of every `next` frame. */
export const PAYOUT_STATUS_SUBSCRIPTION =
  'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal amount currency completedAt } }';

/** The amount and currency of every payout the subscription scenarios seed. */
export const FANOUT_AMOUNT = '5000';
export const FANOUT_CURRENCY = 'XAF';

/** `payoutStatus` as the gateway serialises it for PAYOUT_STATUS_SUBSCRIPTION, keys in selection order. */
export interface PayoutStatusFields {
  id: string;
  status: string;
  isFinal: boolean;
  amount: string | null;
  currency: string | null;
  completedAt: string | null;
}

export function payoutStatusFields(p: PayoutStatusFields): PayoutStatusFields {
  // A fresh literal in selection order, whatever order the argument's keys were in.
  return { id: p.id, status: p.status, isFinal: p.isFinal, amount: p.amount, currency: p.currency, completedAt: p.completedAt };
}

/** graphql-ws's `next` (`{id, type, payload}`, JSON.stringify) for one payoutStatus event. */
export function nextFrame(id: string, fields: PayoutStatusFields): string {
  return JSON.stringify({ id, type: 'next', payload: { data: { payoutStatus: fields } } });
}

export function completeFrame(id: string): string {
  return JSON.stringify({ id, type: 'complete' });
}

export function subscribeFrame(id: string, payoutId: string): string {
  return JSON.stringify({ id, type: 'subscribe', payload: { query: PAYOUT_STATUS_SUBSCRIPTION, variables: { id: payoutId } } });
}

/** The snapshot a PROCESSING payout seeded by the bench yields (the first `next` of a subscription). */
export function processingFields(payoutId: string): PayoutStatusFields {
  return { id: payoutId, status: 'PROCESSING', isFinal: false, amount: FANOUT_AMOUNT, currency: FANOUT_CURRENCY, completedAt: null };
}
