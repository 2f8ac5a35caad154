import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal } from '../../src/lib/decimal.js';
import { addDecimals } from '../../src/zopay/decimal.js';

describe('Decimal output: one written form', () => {
  it.each([
    ['5000', '5000'],
    ['5000.00', '5000'],
    ['12.50', '12.5'],
    ['0.000', '0'],
    ['-0.00', '0'],
    ['+05000.50', '5000.5'],
    ['-5025.00', '-5025'],
    ['0.0001234567890', '0.000123456789'],
    ['123456789012345678901234567890.10', '123456789012345678901234567890.1'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalDecimal(input)).toBe(canonical);
  });

  it.each(['1e+21', '0x10', '', '.5', '5.', ' 5', '5 000', 'NaN'])('leaves %j alone (not a plain decimal)', (input) => {
    expect(canonicalDecimal(input)).toBeUndefined();
  });

  it('keeps the value: the canonical form minus the original is zero, and canonicalising twice changes nothing', () => {
    const decimal = fc
      .tuple(fc.constantFrom('', '+', '-'), fc.stringMatching(/^\d{1,25}$/), fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }))
      .map(([sign, whole, fraction]) => `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}`);
    fc.assert(
      fc.property(decimal, (value) => {
        const canonical = canonicalDecimal(value) as string;
        const negated = canonical.startsWith('-') ? canonical.slice(1) : `-${canonical}`;
        expect(/^-?0(\.0+)?$/.test(addDecimals(value.replace(/^\+/, ''), negated))).toBe(true);
        expect(canonicalDecimal(canonical)).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });
});
