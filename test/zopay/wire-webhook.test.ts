import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseWebhookEvent, payoutFromWebhook, WebhookPayloadError, type PayoutWebhookEventName } from '../../src/zopay/wire.js';

const COMPLETED = {
  event: 'payout.completed',
  data: {
    payout_id: '660e8400-e29b-41d4-a716-446655440001',
    merchant_id: 'merchant-uuid',
    amount: '5000',
    currency: 'XAF',
    gateway: 'MTN_MOMO',
    recipient_msisdn: '237671111111',
    status: 'SUCCESS',
    fees: '100',
    total_deducted: '5100',
    created_at: '2026-01-18T23:30:00.000Z',
  },
  timestamp: '2026-01-18T23:30:00.000Z',
};
const FAILED = {
  event: 'payout.failed',
  data: {
    payout_id: '660e8400-e29b-41d4-a716-446655440001',
    merchant_id: 'merchant-uuid',
    amount: '5000',
    currency: 'XAF',
    gateway: 'MTN_MOMO',
    recipient_msisdn: '237671111111',
    status: 'FAILED',
    failure_reason: 'Invalid recipient',
    created_at: '2026-01-18T23:30:00.000Z',
  },
  timestamp: '2026-01-18T23:30:00.000Z',
};
const parse = (v: unknown) => parseWebhookEvent(JSON.stringify(v));

describe('parseWebhookEvent: payout events (§5.4)', () => {
  it('maps payout.completed, keeping decimal-less amounts and adding + to the MSISDN', () => {
    expect(parse(COMPLETED)).toEqual({
      kind: 'payout',
      event: 'payout.completed',
      occurredAt: '2026-01-18T23:30:00.000Z',
      payout: {
        id: '660e8400-e29b-41d4-a716-446655440001',
        status: 'SUCCESS',
        rawStatus: 'SUCCESS',
        source: 'webhook',
        gateway: 'MTN_MOMO',
        amount: '5000',
        currency: 'XAF',
        recipientMsisdn: '+237671111111',
        gatewayReference: undefined,
        totalAmount: '5100',
        createdAt: '2026-01-18T23:30:00.000Z',
        completedAt: undefined,
        failure: undefined,
        merchantId: 'merchant-uuid',
        batchId: undefined,
      },
    });
  });

  it('maps payout.failed with failure_reason as the failure message', () => {
    const event = parse(FAILED);
    expect(event.kind === 'payout' && event.payout).toMatchObject({ status: 'FAILED', failure: { message: 'Invalid recipient' } });
  });

  it('prefers a structured error over failure_reason', () => {
    const event = parse({ ...FAILED, data: { ...FAILED.data, error: { code: 'INVALID_MSISDN', message: 'Invalid recipient' } } });
    expect(event.kind === 'payout' && event.payout.failure).toEqual({ code: 'INVALID_MSISDN', message: 'Invalid recipient' });
  });

  it('drops a created_at or completed_at that is no date', () => {
    const event = parse({ ...COMPLETED, data: { ...COMPLETED.data, created_at: 'yesterday-ish', completed_at: 'now' } });
    expect(event.kind === 'payout' && [event.payout.createdAt, event.payout.completedAt]).toEqual([undefined, undefined]);
  });

  it('takes the status from the event name and keeps the raw status string', () => {
    const event = parse({ ...COMPLETED, data: { ...COMPLETED.data, status: 'COMPLETED' } });
    expect(event.kind === 'payout' && [event.payout.status, event.payout.rawStatus]).toEqual(['SUCCESS', 'COMPLETED']);
    const noStatus = parse({ ...FAILED, data: { ...FAILED.data, status: undefined } });
    expect(noStatus.kind === 'payout' && [noStatus.payout.status, noStatus.payout.rawStatus]).toEqual(['FAILED', 'FAILED']);
  });

  it('ignores extra fields anywhere and tolerates a missing envelope timestamp', () => {
    const event = parse({ event: 'payout.completed', data: { ...COMPLETED.data, new_field: [1] }, version: 2 });
    expect(event).toMatchObject({ kind: 'payout', occurredAt: undefined });
  });

  it('parses exactly the raw bytes it is given (unusual whitespace and key order)', () => {
    const raw = `{ "timestamp":"2026-01-18T23:30:00.000Z",\n  "data": {"status":"SUCCESS","payout_id":"p-9"},\t"event":"payout.completed" }`;
    expect(parseWebhookEvent(raw)).toMatchObject({ kind: 'payout', payout: { id: 'p-9' } });
  });
});

describe('parseWebhookEvent: other events', () => {
  it.each(['payment.succeeded', 'payment.failed', 'refund.completed', 'settlement.generated', 'payout.created', 'checkout.session.paid'])(
    'acknowledges %s without applying it',
    (event) => {
      expect(parse({ event, data: { anything: true }, timestamp: '2026-01-18T23:30:00.000Z' })).toEqual({ kind: 'ignored', event });
    },
  );
});

describe('parseWebhookEvent: malformed bodies', () => {
  it.each([
    ['not JSON', '{"event":', 'MALFORMED_JSON'],
    ['empty', '', 'MALFORMED_JSON'],
    ['a JSON array', '[]', 'INVALID_SHAPE'],
    ['no event', JSON.stringify({ data: {} }), 'INVALID_SHAPE'],
    ['a payout event without data', JSON.stringify({ event: 'payout.failed' }), 'INVALID_SHAPE'],
    ['a payout event without payout_id', JSON.stringify({ event: 'payout.completed', data: { status: 'SUCCESS' } }), 'INVALID_SHAPE'],
  ])('throws a typed error for %s', (_name, raw, reason) => {
    let caught: unknown;
    try {
      parseWebhookEvent(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WebhookPayloadError);
    expect(caught).toMatchObject({ code: 'ZOPAY_WEBHOOK_PAYLOAD_INVALID', reason });
  });
});

describe('parseWebhookEvent: no body text in errors', () => {
  it('does not carry fragments of a malformed body (MSISDNs) in the error or its cause', () => {
    try {
      parseWebhookEvent('{"recipient_msisdn":"237670000001",');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WebhookPayloadError);
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('237670000001');
      expect((err as Error).cause).toBeUndefined();
    }
  });
});

describe('parseWebhookEvent: the same answers as the zod form of its rules, on generated bodies', () => {
  // The reference: the rules of §5.4 and wire-normalize.ts written with zod (as the parser was before it
  // was written by hand for speed).
  const optionalString = z.string().nullish().transform((v) => v ?? undefined);
  const amount = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? String(v) : v));
  const optionalAmount = amount.nullish().transform((v) => v ?? undefined);
  const Envelope = z.object({ event: z.string().min(1), data: z.unknown().optional(), timestamp: optionalString });
  const Data = z.object({
    payout_id: z.union([z.string().min(1), z.number()]).transform((v) => String(v)),
    merchant_id: optionalString,
    amount: optionalAmount,
    currency: optionalString,
    gateway: optionalString,
    recipient_msisdn: optionalString,
    status: optionalString,
    fees: optionalAmount,
    total_deducted: optionalAmount,
    failure_reason: z.string().nullish(),
    error: z.unknown().optional(),
    gateway_reference: optionalString,
    created_at: optionalString,
    completed_at: optionalString,
    batch_id: optionalString,
  });
  const PAYOUT_EVENTS = new Set(['payout.completed', 'payout.failed']);

  function reference(raw: string): unknown {
    const envelope = Envelope.safeParse(JSON.parse(raw));
    if (!envelope.success) return 'INVALID_SHAPE';
    const { event, data, timestamp } = envelope.data;
    if (!PAYOUT_EVENTS.has(event)) return { kind: 'ignored', event };
    const parsed = Data.safeParse(data);
    if (!parsed.success) return 'INVALID_SHAPE';
    return { kind: 'payout', event, payout: payoutFromWebhook(event as PayoutWebhookEventName, parsed.data), occurredAt: timestamp };
  }
  function actual(raw: string): unknown {
    try {
      return parseWebhookEvent(raw);
    } catch (err) {
      if (err instanceof WebhookPayloadError) return err.reason;
      throw err;
    }
  }

  // Each field: a good value most of the time, otherwise anything JSON can carry.
  const odd = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(''), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }));
  const field = (good: fc.Arbitrary<unknown>) => fc.option(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: odd }), { nil: undefined });
  const data = fc.record(
    {
      payout_id: field(fc.oneof(fc.uuid(), fc.integer())),
      merchant_id: field(fc.string()),
      amount: field(fc.oneof(fc.constantFrom('5000', '12.5'), fc.integer())),
      currency: field(fc.constant('XAF')),
      gateway: field(fc.constantFrom('MTN_MOMO', 'ORANGE_MONEY', 'OTHER')),
      recipient_msisdn: field(fc.constant('237670000001')),
      status: field(fc.constantFrom('SUCCESS', 'FAILED')),
      fees: field(fc.constantFrom('100', '0')),
      total_deducted: field(fc.integer()),
      failure_reason: field(fc.string()),
      error: field(fc.oneof(fc.string(), fc.record({ code: fc.string(), message: fc.string() }))),
      gateway_reference: field(fc.string()),
      created_at: field(fc.constant('2026-01-18T23:30:00.000Z')),
      completed_at: field(fc.constant('2026-01-18T23:31:00.000Z')),
      batch_id: field(fc.string()),
      extra: field(fc.string()),
    },
    { requiredKeys: [] },
  );
  const body = fc.record(
    {
      event: field(fc.constantFrom('payout.completed', 'payout.failed', 'payment.success', '')),
      data: fc.oneof({ weight: 4, arbitrary: data }, { weight: 1, arbitrary: odd }),
      timestamp: field(fc.constant('2026-01-18T23:30:00.000Z')),
    },
    { requiredKeys: [] },
  );

  it('agrees on 5,000 generated bodies, good and bad', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: body }, { weight: 1, arbitrary: odd }), (value) => {
        const raw = JSON.stringify(value);
        expect(actual(raw)).toEqual(reference(raw));
      }),
      { numRuns: 5_000 },
    );
  });
});
