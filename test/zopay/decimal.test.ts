import { describe, expect, it } from 'vitest';
import { absDecimal, addDecimals, isDecimalString } from '../../src/zopay/decimal.js';

describe('decimal strings', () => {
  it('adds exactly, keeping the widest scale', () => {
    expect(addDecimals('5000', '15.00', '10.00')).toBe('5025.00');
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(addDecimals('99999999999999999999.99', '0.01')).toBe('100000000000000000000.00');
    expect(addDecimals('-5025.00', '25')).toBe('-5000.00');
    expect(addDecimals('0.05', '-0.10')).toBe('-0.05');
  });

  it('drops the sign without touching digits', () => {
    expect(absDecimal('-5025.00')).toBe('5025.00');
    expect(absDecimal('10150.00')).toBe('10150.00');
  });

  it('refuses anything that is not a plain decimal', () => {
    for (const bad of ['1e3', '5,000', '', 'NaN', '1.', '.5', ' 1']) {
      expect(isDecimalString(bad)).toBe(false);
      expect(() => addDecimals(bad)).toThrow(RangeError);
    }
  });
});
