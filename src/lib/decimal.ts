/** Minimal decimal-string helpers: amounts are compared and summed as scaled bigints, never floats. */

const DECIMAL = /^(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$/;

/** The canonical string ("05" and "1e3" are rejected) or undefined. */
export function parseDecimal(value: string): string | undefined {
  return DECIMAL.test(value) ? value : undefined;
}

export function fractionDigits(value: string): number {
  const dot = value.indexOf('.');
  return dot === -1 ? 0 : value.length - dot - 1;
}

const SCALE = 6;

export function toScaled(value: string): bigint {
  const [int = '0', frac = ''] = value.split('.');
  return BigInt(int) * 10n ** BigInt(SCALE) + BigInt((frac + '0'.repeat(SCALE)).slice(0, SCALE));
}

export function compareDecimal(a: string, b: string): number {
  const x = toScaled(a);
  const y = toScaled(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * One written form for any decimal string, whatever its size or precision: no "+", no leading zeros, no
 * trailing fraction zeros ("+05000.50" → "5000.5", "-0.00" → "0"). Undefined when it is not a plain
 * decimal (an exponent, a stray character).
 */
export function canonicalDecimal(value: string): string | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const whole = (m[2] ?? '0').replace(/^0+(?=\d)/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const digits = fraction ? `${whole}.${fraction}` : whole;
  return m[1] === '-' && /[1-9]/.test(digits) ? `-${digits}` : digits;
}
