import { z } from 'zod';
import type { QuoteRecord } from './types.js';

const QuoteRecordSchema = z.object({
  quoteId: z.string().min(1),
  owner: z.string().min(1),
  recipientMsisdn: z.string(),
  expiresAt: z.string(),
});

export function encodeQuote(record: QuoteRecord): string {
  const parsed = QuoteRecordSchema.safeParse(record);
  if (!parsed.success) throw new TypeError('Invalid quote record');
  // `exp` (epoch ms) is for the execute's begin script, which compares numbers, not ISO strings.
  const exp = Date.parse(parsed.data.expiresAt);
  return JSON.stringify(Number.isNaN(exp) ? parsed.data : { ...parsed.data, exp });
}

/**
 * Whether a key with no record may be claimed for this quote (ExecuteBeginInput.quoteCheck): the same
 * rule as the begin script's, for the stores that run the steps one by one.
 */
export function quotePassesCheck(quote: QuoteRecord | undefined, check: { owner: string; recipientMsisdn: string; nowMs: number }): boolean {
  if (!quote || quote.owner !== check.owner || quote.recipientMsisdn !== check.recipientMsisdn) return false;
  const exp = Date.parse(quote.expiresAt);
  // A date the store cannot read is the caller's to judge: claim.
  return Number.isNaN(exp) || exp > check.nowMs;
}

export function decodeQuote(json: string): QuoteRecord | undefined {
  try {
    const parsed = QuoteRecordSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
