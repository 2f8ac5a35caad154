import { z } from 'zod';
import { GATEWAYS, PAYOUT_STATUSES, type Payout } from '../zopay/types.js';

/**
 * The JSON form of a Payout as stored in Redis and sent over pub/sub. Everything read back from Redis
 * is parsed with this schema: a malformed value is dropped, never trusted.
 */

const optionalString = z.string().optional();

const PayoutSchema = z.object({
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

// Compile-time guard: the schema produces exactly the domain type.
const _check: (p: z.infer<typeof PayoutSchema>) => Payout = (p) => p;
void _check;

/** Parses a JSON text into a Payout; undefined when it is not JSON or not a valid payout. */
export function decodePayout(json: string): Payout | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = PayoutSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Validates a payout handed to a store or the bus; throws a TypeError for a programming error. */
export function encodePayout(payout: Payout): string {
  const parsed = PayoutSchema.safeParse(payout);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new TypeError(`Invalid payout (${paths})`);
  }
  return JSON.stringify(parsed.data);
}
