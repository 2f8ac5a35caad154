import { builder } from './builder.js';
import { normalizeMsisdn } from '../lib/msisdn.js';
import { canonicalDecimal, parseDecimal } from '../lib/decimal.js';
import { readIsoInstant } from '../lib/instant.js';

export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'An ISO-8601 instant in UTC, e.g. "2026-01-15T10:00:00.000Z".',
  serialize: (value) => String(value),
  parseValue: (value) => {
    // Every field must name a real calendar date and clock time: Date.parse would roll an impossible day
    // over (Feb 31 becomes Mar 3) and take 24:00, a filter bound the client did not mean.
    const read = typeof value === 'string' ? readIsoInstant(value) : undefined;
    if (!read || (!read.ok && read.reason === 'format')) throw new TypeError('DateTime must be an ISO-8601 string such as "2026-01-15T10:00:00Z"');
    if (!read.ok) throw new TypeError('DateTime is not a real instant: no such calendar date, clock time or UTC offset');
    return new Date(read.ms).toISOString();
  },
});

export const DecimalScalar = builder.scalarType('Decimal', {
  description:
    'A non-negative decimal number written as a string, e.g. "5000" or "12.5". Amounts are never floats. ' +
    'Input may carry trailing zeros ("5000.00"); output is canonical, without them, whatever form ZoPay used.',
  // ZoPay writes "5000" in webhooks and "5000.00" in reads, and a payout merges both: one form for clients.
  serialize: (value) => {
    const text = String(value);
    return canonicalDecimal(text) ?? text;
  },
  parseValue: (value) => {
    if (typeof value !== 'string') {
      throw new TypeError(`Decimal must be a string such as "5000"${typeof value === 'number' ? ' (not a number: amounts are never floats)' : ''}`);
    }
    const parsed = parseDecimal(value);
    if (!parsed) {
      // Well formed but longer than any amount (the Decimal scalar holds 18 digits and 6 decimals).
      if (/^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) throw new TypeError('Decimal has too many digits: at most 18 before the point and 6 after it');
      throw new TypeError('Decimal must be digits with an optional fraction, such as "5000" or "12.50"');
    }
    return parsed;
  },
});

export const MsisdnScalar = builder.scalarType('Msisdn', {
  description:
    'A phone number in E.164 form, e.g. "+237670000001". Input may omit the "+"; output always has it. ' +
    'Letters, spaces, separators and non-ASCII digits are rejected.',
  serialize: (value) => String(value),
  parseValue: (value) => {
    if (typeof value !== 'string') throw new TypeError('Msisdn must be a string in E.164 form: "+", the country code and the number, digits only ("+237" and 9 digits in Cameroon)');
    const result = normalizeMsisdn(value);
    if (!result.ok) throw new TypeError(result.reason);
    return result.msisdn;
  },
});
