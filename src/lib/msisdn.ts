/** E.164 normalisation and masking. Only ASCII digits; no separators; country code required. */

export type MsisdnResult = { ok: true; msisdn: string } | { ok: false; reason: string };

const E164_DIGITS = /^[1-9][0-9]{7,14}$/;

export function normalizeMsisdn(input: string): MsisdnResult {
  const digits = input.startsWith('+') ? input.slice(1) : input;
  if (!/^[0-9]*$/.test(digits)) {
    return { ok: false, reason: 'Msisdn may contain only an optional leading "+" and ASCII digits' };
  }
  if (!E164_DIGITS.test(digits)) {
    return { ok: false, reason: 'Msisdn must be a country code and number, 8 to 15 digits in all' };
  }
  // Cameroon (+237) numbers have exactly 9 national digits.
  if (digits.startsWith('237') && digits.length !== 12) {
    return { ok: false, reason: 'A Cameroon (+237) Msisdn has 9 digits after the country code' };
  }
  return { ok: true, msisdn: `+${digits}` };
}

/** `+237670000001` → `+2376*****001`: enough to correlate in logs, not enough to identify anyone. */
export function maskMsisdn(msisdn: string): string {
  const plus = msisdn.startsWith('+') ? '+' : '';
  const d = plus ? msisdn.slice(1) : msisdn;
  if (d.length < 7) return plus + '*'.repeat(d.length);
  return plus + d.slice(0, 4) + '*'.repeat(d.length - 7) + d.slice(-3);
}
