/**
 * Amounts as bigint hundredths ("minor units" at 2 dp for every currency). ZoPay sends decimal strings;
 * comparing or adding them as floats drifts, and comparing them as strings says "5000" ≠ "5000.00".
 */

/** Currencies with no minor unit: amounts and fees are whole units (zopay-api.md §9 #23, #24). */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(['XAF', 'XOF']);

const HUNDRED = 100n;
/** 15 integer digits keep every product below well under 2^63 and every amount far above any real payout. */
const AMOUNT = /^(\d{1,15})(?:\.(\d{1,20}))?$/;

export type AmountParse = { ok: true; minor: bigint } | { ok: false; reason: string };

/**
 * Parses a positive decimal string. Trailing zeros are fine ("5000.00" is 5000); digits that would need
 * a smaller unit than the currency has are not ("10.005" anywhere, "10.5" in XAF).
 */
export function parseAmount(text: string, currency: string): AmountParse {
  const m = AMOUNT.exec(text);
  if (!m) return { ok: false, reason: 'must be a positive decimal string such as "5000" or "5000.00"' };
  const whole = m[1] ?? '0';
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const maxDecimals = ZERO_DECIMAL_CURRENCIES.has(currency) ? 0 : 2;
  if (fraction.length > maxDecimals) {
    return {
      ok: false,
      reason: maxDecimals === 0 ? `${currency} amounts have no fractional part` : 'at most 2 decimal places',
    };
  }
  const minor = BigInt(whole) * HUNDRED + BigInt(fraction.padEnd(2, '0'));
  if (minor <= 0n) return { ok: false, reason: 'must be greater than zero' };
  return { ok: true, minor };
}

/** Parses a decimal string that may be zero (a starting balance). */
export function parseNonNegative(text: string): bigint | undefined {
  if (/^0+(\.0+)?$/.test(text)) return 0n;
  const r = parseAmount(text, 'USD');
  return r.ok ? r.minor : undefined;
}

/** "5000.00": resource and quote responses always carry 2 decimals, whatever the currency. */
export function formatAmount(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / HUNDRED}.${String(abs % HUNDRED).padStart(2, '0')}`;
}

/** "5000": webhooks carry no decimals; a non-zero fraction (USD cents) is kept rather than lost. */
export function formatWebhookAmount(minor: bigint): string {
  return minor % HUNDRED === 0n ? String(minor / HUNDRED) : formatAmount(minor);
}

/**
 * `bps` basis points of `minor`, rounded half-up to the currency's smallest unit (a whole unit for
 * XAF/XOF, a hundredth otherwise). Amounts are positive, so half-up is plain integer arithmetic.
 */
export function feeOf(minor: bigint, bps: number, currency: string): bigint {
  const unit = ZERO_DECIMAL_CURRENCIES.has(currency) ? HUNDRED : 1n;
  const denominator = 10_000n * unit;
  return ((minor * BigInt(bps) + denominator / 2n) / denominator) * unit;
}
