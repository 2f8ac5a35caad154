import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../../src/schema/index.js';

describe('schema.graphql', () => {
  it('is the printed Pothos schema (run npm run schema:print after changing types)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchema(lexicographicSortSchema(schema)) + '\n');
  });

  it('names the contract of design.md', () => {
    for (const name of ['DateTime', 'Decimal', 'Msisdn', 'PayoutStatus', 'PaymentGateway', 'Quote', 'Payout', 'Recipient', 'PayoutFailure', 'Error', 'CreateQuoteResult', 'ExecuteDisbursementResult', 'PayoutConnection']) {
      expect(schema.getType(name), name).toBeDefined();
    }
  });
});
