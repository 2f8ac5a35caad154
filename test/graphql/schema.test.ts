import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isSpecifiedScalarType, lexicographicSortSchema, printSchema } from 'graphql';
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

  it('describes every type, field, argument, input field and enum value (design.md: the schema is the documentation)', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) if (!field.description) missing.push(`${type.name}.${field.name}`);
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });
});
