/** src/stores/payout-codec.ts against the zod form of its rules (what it was before it was hand-written). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodePayout, encodePayout } from '../../src/stores/payout-codec.js';
import { GATEWAYS, PAYOUT_STATUSES, type Payout } from '../../src/zopay/types.js';

const optionalString = z.string().optional();
const Reference = z.object({
  id: z.string().min(1),
  status: z.enum(PAYOUT_STATUSES),
  rawStatus: z.string(),
  source: z.enum(['execute', 'get', 'list', 'webhook']),
  gateway: z.enum(GATEWAYS).optional(),
  amount: optionalString,
  currency: optionalString,
  recipientMsisdn: optionalString,
  gatewayReference: optionalString,
  correlationId: optionalString,
  gatewayFee: optionalString,
  platformFee: optionalString,
  totalAmount: optionalString,
  createdAt: optionalString,
  completedAt: z.string().nullable().optional(),
  failure: z.object({ code: optionalString, message: z.string() }).nullable().optional(),
  merchantId: optionalString,
  batchId: optionalString,
});

const odd = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.constant(''), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }));
const field = (good: fc.Arbitrary<unknown>) => fc.option(fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: odd }), { nil: undefined });
const str = fc.string({ maxLength: 8 });
const payoutLike = fc.record(
  {
    id: field(fc.uuid()),
    status: field(fc.constantFrom(...PAYOUT_STATUSES, 'VERIFYING')),
    rawStatus: field(str),
    source: field(fc.constantFrom('execute', 'get', 'list', 'webhook', 'other')),
    gateway: field(fc.constantFrom(...GATEWAYS, 'OTHER')),
    amount: field(str),
    currency: field(str),
    recipientMsisdn: field(str),
    gatewayReference: field(str),
    correlationId: field(str),
    gatewayFee: field(str),
    platformFee: field(str),
    totalAmount: field(str),
    createdAt: field(str),
    completedAt: field(fc.oneof(str, fc.constant(null))),
    failure: field(fc.oneof(fc.constant(null), fc.record({ code: fc.option(str, { nil: undefined }), message: str, extra: fc.option(str, { nil: undefined }) }, { requiredKeys: ['message'] }))),
    merchantId: field(str),
    batchId: field(str),
    extra: field(str),
  },
  { requiredKeys: [] },
);

describe('payout codec', () => {
  it('decodes what the zod form accepts, drops what it refuses, and keeps only the payout fields: 5,000 generated values', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: payoutLike }, { weight: 1, arbitrary: odd }), (value) => {
        const json = JSON.stringify(value);
        const ref = Reference.safeParse(JSON.parse(json));
        expect(decodePayout(json)).toEqual(ref.success ? ref.data : undefined);
      }),
      { numRuns: 5_000 },
    );
  });

  it('encodes exactly the JSON the zod form gave, and refuses what it refused: 5,000 generated values', () => {
    fc.assert(
      fc.property(payoutLike, (value) => {
        const ref = Reference.safeParse(value);
        if (ref.success) expect(encodePayout(value as Payout)).toBe(JSON.stringify(ref.data));
        else expect(() => encodePayout(value as Payout)).toThrow(TypeError);
      }),
      { numRuns: 5_000 },
    );
  });

  it('names the wrong fields of a payout it refuses, and drops text that is not JSON', () => {
    expect(() => encodePayout({ id: '', status: 'DONE', rawStatus: 'x', source: 'execute' } as unknown as Payout)).toThrow('Invalid payout (id, status)');
    expect(decodePayout('{"id":')).toBeUndefined();
  });
});
