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
  return JSON.stringify(parsed.data);
}

export function decodeQuote(json: string): QuoteRecord | undefined {
  try {
    const parsed = QuoteRecordSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
