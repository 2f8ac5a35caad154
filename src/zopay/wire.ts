import { z } from 'zod';
import { absDecimal, addDecimals } from './decimal.js';
import type { CreateQuoteRequest, Payout, PayoutPage, PayoutSource, Quote } from './types.js';
import {
  isJsonObject,
  optionalAmount,
  optionalString,
  toFailure,
  toGateway,
  toMsisdn,
  toPayoutStatus,
  wireId,
} from './wire-normalize.js';
import { toUtcInstant } from '../lib/instant.js';

/**
 * ZoPay's JSON as documented (zopay-api.md §3, §5.4), with the tolerance §8/§9 ask for, and the mappers
 * to the domain types. Create/execute/webhooks are snake_case, GET/list camelCase. Extra fields are
 * ignored everywhere. Response parsers throw WireFormatError (the client reports ZoPayBadResponseError);
 * parseWebhookEvent throws WebhookPayloadError.
 */

export class WireFormatError extends Error {
  readonly code = 'ZOPAY_WIRE_FORMAT' as const;
  constructor(what: string, cause?: unknown) {
    super(`ZoPay ${what} did not match the expected shape`, cause === undefined ? undefined : { cause });
    this.name = 'WireFormatError';
  }
}

/** A quote stays valid 15 minutes (§3.1); used when `expires_at` is absent (§9 #1). */
export const DEFAULT_QUOTE_TTL_MS = 15 * 60_000;

// ---- quote: POST /api/v1/disbursements/quote (and the /wallets/quote variant with nested `fees`) ----

const quoteFields = {
  quote_id: wireId.optional(),
  id: wireId.optional(),
  gateway_fee: optionalAmount,
  platform_fee: optionalAmount,
  fees: z.object({ gateway_fee: optionalAmount, platform_fee: optionalAmount }).nullish(),
  total_amount: optionalAmount,
  net_to_merchant: optionalAmount,
  expires_at: optionalString,
};
export const QuoteResponseSchema = z.object({ ...quoteFields, quote: z.object(quoteFields).nullish() });
export type QuoteResponseWire = z.infer<typeof QuoteResponseSchema>;

export function toQuote(wire: QuoteResponseWire, req: CreateQuoteRequest, nowMs: number): Quote {
  const nested = wire.quote ?? undefined;
  const pick = <K extends keyof typeof quoteFields>(k: K) => wire[k] ?? nested?.[k];
  // §9 #1: the documented response has no quote_id; fall back to `id`, then `quote.id`.
  const id = wire.quote_id ?? wire.id ?? nested?.quote_id ?? nested?.id;
  const gatewayFee = pick('gateway_fee') ?? pick('fees')?.gateway_fee;
  const platformFee = pick('platform_fee') ?? pick('fees')?.platform_fee;
  if (id === undefined) throw new WireFormatError('quote response (no quote id)');
  if (gatewayFee === undefined || platformFee === undefined) throw new WireFormatError('quote response (no fees)');
  // The quote's `total_amount` is what the recipient gets (§8 #6).
  const amount = pick('total_amount') ?? req.amount;
  const net = pick('net_to_merchant');
  let merchantDebit: string;
  try {
    merchantDebit = net !== undefined ? absDecimal(net) : addDecimals(amount, gatewayFee, platformFee);
  } catch (err) {
    throw new WireFormatError('quote response (amounts are not decimals)', err);
  }
  const expiresAt = toUtcInstant(pick('expires_at')) ?? new Date(nowMs + DEFAULT_QUOTE_TTL_MS).toISOString();
  return {
    id,
    gateway: req.gateway,
    amount,
    currency: req.currency,
    gatewayFee,
    platformFee,
    merchantDebit,
    recipientMsisdn: toMsisdn(req.recipientMsisdn) ?? req.recipientMsisdn,
    expiresAt,
  };
}

// ---- execute: POST /api/v1/disbursements/execute ----

export const ExecuteResponseSchema = z.object({
  payout_id: wireId.optional(),
  id: wireId.optional(),
  status: z.string(),
  gateway_reference: optionalString,
  correlation_id: optionalString,
});
export type ExecuteResponseWire = z.infer<typeof ExecuteResponseSchema>;

export function payoutFromExecute(wire: ExecuteResponseWire): Payout {
  const id = wire.payout_id ?? wire.id;
  if (id === undefined) throw new WireFormatError('execute response (no payout_id)');
  return {
    id,
    status: toPayoutStatus(wire.status),
    rawStatus: wire.status,
    source: 'execute',
    gatewayReference: wire.gateway_reference,
    correlationId: wire.correlation_id,
  };
}

// ---- resource: GET /api/v1/disbursements/:id and list items (camelCase) ----

export const PayoutResourceSchema = z.object({
  id: wireId,
  merchantId: optionalString,
  gateway: optionalString,
  amount: optionalAmount,
  currency: optionalString,
  status: z.string(),
  recipient: z.object({ msisdn: optionalString }).nullish(),
  gatewayReference: optionalString,
  correlationId: optionalString,
  gatewayFee: optionalAmount,
  platformFee: optionalAmount,
  totalAmount: optionalAmount,
  createdAt: optionalString,
  completedAt: z.string().nullish(),
  error: z.unknown().optional(),
  failureReason: z.string().nullish(),
  batchId: optionalString,
});
export type PayoutResourceWire = z.infer<typeof PayoutResourceSchema>;

export function payoutFromResource(wire: PayoutResourceWire, source: Extract<PayoutSource, 'get' | 'list'>): Payout {
  return {
    id: wire.id,
    status: toPayoutStatus(wire.status),
    rawStatus: wire.status,
    source,
    gateway: toGateway(wire.gateway),
    amount: wire.amount,
    currency: wire.currency,
    recipientMsisdn: toMsisdn(wire.recipient?.msisdn),
    gatewayReference: wire.gatewayReference,
    correlationId: wire.correlationId,
    gatewayFee: wire.gatewayFee,
    platformFee: wire.platformFee,
    totalAmount: wire.totalAmount,
    createdAt: toUtcInstant(wire.createdAt),
    completedAt: wire.completedAt === null ? null : toUtcInstant(wire.completedAt),
    failure: toFailure(wire.error, wire.failureReason),
    merchantId: wire.merchantId,
    batchId: wire.batchId,
  };
}

export const GetPayoutResponseSchema = z.object({ payout: PayoutResourceSchema });

export const ListPayoutsResponseSchema = z.object({
  payouts: z.array(PayoutResourceSchema),
  total: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().optional(),
  hasMore: z.boolean().optional(),
});
export type ListPayoutsResponseWire = z.infer<typeof ListPayoutsResponseSchema>;

/** The index-page variant omits `hasMore` (and may omit the echoes): derive them (§9 #21). */
export function toPayoutPage(wire: ListPayoutsResponseWire, requested: { limit: number; offset: number }): PayoutPage {
  const payouts = wire.payouts.map((p) => payoutFromResource(p, 'list'));
  const limit = wire.limit ?? requested.limit;
  const offset = wire.offset ?? requested.offset;
  const total = wire.total ?? offset + payouts.length;
  const hasMore = wire.hasMore ?? (wire.total !== undefined ? offset + payouts.length < total : payouts.length >= limit);
  return { payouts, total, limit, offset, hasMore };
}

// ---- body-level parsers used by the client ----

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    // No cause: V8's SyntaxError quotes part of the body, which may carry MSISDNs.
    throw new WireFormatError(`${what} (not JSON)`);
  }
}

function parseWith<S extends z.ZodType>(schema: S, body: string, what: string): z.output<S> {
  const result = schema.safeParse(parseJson(body, what));
  if (!result.success) throw new WireFormatError(what, result.error);
  return result.data;
}

export function parseQuoteResponse(body: string, req: CreateQuoteRequest, nowMs: number): Quote {
  return toQuote(parseWith(QuoteResponseSchema, body, 'quote response'), req, nowMs);
}

export function parseExecuteResponse(body: string): Payout {
  return payoutFromExecute(parseWith(ExecuteResponseSchema, body, 'execute response'));
}

export function parseGetPayoutResponse(body: string): Payout {
  return payoutFromResource(parseWith(GetPayoutResponseSchema, body, 'payout response').payout, 'get');
}

export function parseListPayoutsResponse(body: string, requested: { limit: number; offset: number }): PayoutPage {
  return toPayoutPage(parseWith(ListPayoutsResponseSchema, body, 'payout list'), requested);
}

// ---- webhooks: POST to our endpoint, envelope {event, data, timestamp} (§5.4) ----

/** Thrown by parseWebhookEvent for a body that is not JSON or not a ZoPay envelope. */
export class WebhookPayloadError extends Error {
  readonly code = 'ZOPAY_WEBHOOK_PAYLOAD_INVALID' as const;
  constructor(
    readonly reason: 'MALFORMED_JSON' | 'INVALID_SHAPE',
    cause?: unknown,
  ) {
    super(
      reason === 'MALFORMED_JSON' ? 'The webhook body is not JSON' : 'The webhook body is not a ZoPay event envelope',
      cause === undefined ? undefined : { cause },
    );
    this.name = 'WebhookPayloadError';
  }
}

/**
 * The payout fields of a webhook's `data` (§5.4), read by hand rather than with zod: this runs for every
 * delivery, and zod's per-field pipes cost a third of a delivery's CPU (an A/B of the webhook bench).
 * The rules are those of the other wire shapes (wire-normalize.ts): ids are non-empty strings or numbers,
 * amounts strings or numbers, other fields strings; absent and null read as not carried, except
 * `failure_reason`, whose null is kept. Extra fields are ignored. test/zopay/wire-webhook.test.ts checks
 * it against the zod form of the same rules on generated input.
 */
export interface PayoutWebhookDataWire {
  payout_id: string;
  merchant_id?: string | undefined;
  amount?: string | undefined;
  currency?: string | undefined;
  gateway?: string | undefined;
  recipient_msisdn?: string | undefined;
  status?: string | undefined;
  fees?: string | undefined;
  total_deducted?: string | undefined;
  failure_reason?: string | null | undefined;
  error?: unknown;
  gateway_reference?: string | undefined;
  created_at?: string | undefined;
  completed_at?: string | undefined;
  batch_id?: string | undefined;
}

/** A field that is not what the shape allows; the parser turns it into its own error. */
class ShapeError extends Error {}

function optionalStringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  throw new ShapeError(key);
}

function optionalAmountField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ShapeError(key);
}

function idField(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ShapeError(key);
}

/** The envelope {event, data, timestamp}: a non-empty event name; undefined when the shape is wrong. */
export function readWebhookEnvelope(json: unknown): { event: string; data: unknown; timestamp: string | undefined } | undefined {
  if (!isJsonObject(json)) return undefined;
  const event = json['event'];
  if (typeof event !== 'string' || event === '') return undefined;
  try {
    return { event, data: json['data'], timestamp: optionalStringField(json, 'timestamp') };
  } catch {
    return undefined;
  }
}

/** A payout event's `data`; undefined when the shape is wrong. */
export function readPayoutWebhookData(data: unknown): PayoutWebhookDataWire | undefined {
  if (!isJsonObject(data)) return undefined;
  try {
    const reason = data['failure_reason'];
    if (reason !== undefined && reason !== null && typeof reason !== 'string') return undefined;
    return {
      payout_id: idField(data, 'payout_id'),
      merchant_id: optionalStringField(data, 'merchant_id'),
      amount: optionalAmountField(data, 'amount'),
      currency: optionalStringField(data, 'currency'),
      gateway: optionalStringField(data, 'gateway'),
      recipient_msisdn: optionalStringField(data, 'recipient_msisdn'),
      status: optionalStringField(data, 'status'),
      fees: optionalAmountField(data, 'fees'),
      total_deducted: optionalAmountField(data, 'total_deducted'),
      failure_reason: reason as string | null | undefined,
      error: data['error'],
      gateway_reference: optionalStringField(data, 'gateway_reference'),
      created_at: optionalStringField(data, 'created_at'),
      completed_at: optionalStringField(data, 'completed_at'),
      batch_id: optionalStringField(data, 'batch_id'),
    };
  } catch (err) {
    if (err instanceof ShapeError) return undefined;
    throw err;
  }
}

const PAYOUT_EVENT_STATUS = { 'payout.completed': 'SUCCESS', 'payout.failed': 'FAILED' } as const;
export type PayoutWebhookEventName = keyof typeof PAYOUT_EVENT_STATUS;

export type WebhookEvent =
  | { kind: 'payout'; event: PayoutWebhookEventName; payout: Payout; occurredAt: string | undefined }
  /** payment.*, refund.*, settlement.* and unknown events: acknowledged, not applied. */
  | { kind: 'ignored'; event: string };

function isPayoutEvent(event: string): event is PayoutWebhookEventName {
  return Object.hasOwn(PAYOUT_EVENT_STATUS, event);
}

/**
 * The event name decides the status (payout.completed is SUCCESS by definition, §5.4); `rawStatus` keeps
 * whatever `data.status` said. Webhooks carry `total_deducted` (amount + fees) and no `+` on the MSISDN.
 */
export function payoutFromWebhook(event: PayoutWebhookEventName, data: PayoutWebhookDataWire): Payout {
  const status = PAYOUT_EVENT_STATUS[event];
  return {
    id: data.payout_id,
    status,
    rawStatus: data.status ?? status,
    source: 'webhook',
    gateway: toGateway(data.gateway),
    amount: data.amount,
    currency: data.currency,
    recipientMsisdn: toMsisdn(data.recipient_msisdn),
    gatewayReference: data.gateway_reference,
    totalAmount: data.total_deducted,
    createdAt: toUtcInstant(data.created_at),
    completedAt: toUtcInstant(data.completed_at),
    failure: toFailure(data.error, data.failure_reason),
    merchantId: data.merchant_id,
    batchId: data.batch_id,
  };
}

/** Parses a verified webhook body (verify the raw bytes first; this never sees the signature). */
export function parseWebhookEvent(rawBody: string): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    // No cause: V8's SyntaxError quotes part of the body, which may carry MSISDNs.
    throw new WebhookPayloadError('MALFORMED_JSON');
  }
  const envelope = readWebhookEnvelope(json);
  if (!envelope) throw new WebhookPayloadError('INVALID_SHAPE');
  const { event, data, timestamp } = envelope;
  if (!isPayoutEvent(event)) return { kind: 'ignored', event };
  const parsed = readPayoutWebhookData(data);
  if (!parsed) throw new WebhookPayloadError('INVALID_SHAPE');
  return { kind: 'payout', event, payout: payoutFromWebhook(event, parsed), occurredAt: timestamp };
}
