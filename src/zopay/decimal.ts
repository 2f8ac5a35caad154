/**
 * Exact arithmetic on ZoPay's decimal amount strings ("5000", "15.00", "-5025.00"). Money is never a
 * float here: the values are scaled to BigInt at the largest number of fraction digits involved.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

export function isDecimalString(value: string): boolean {
  return DECIMAL.test(value);
}

interface Scaled {
  units: bigint;
  scale: number;
}

function parse(value: string): Scaled {
  const m = DECIMAL.exec(value);
  if (!m) throw new RangeError('not a decimal string');
  const fraction = m[3] ?? '';
  const units = BigInt(`${m[2] ?? '0'}${fraction}`);
  return { units: m[1] === '-' ? -units : units, scale: fraction.length };
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${whole}` : whole;
}

/** Sum of decimal strings, keeping the largest number of fraction digits ("5000" + "15.00" → "5015.00"). */
export function addDecimals(...values: readonly string[]): string {
  const parsed = values.map(parse);
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  let total = 0n;
  for (const p of parsed) total += p.units * 10n ** BigInt(scale - p.scale);
  return format(total, scale);
}

/** The value without its sign, digits untouched ("-5025.00" → "5025.00"). */
export function absDecimal(value: string): string {
  if (!DECIMAL.test(value)) throw new RangeError('not a decimal string');
  return value.replace(/^[+-]/, '');
}
