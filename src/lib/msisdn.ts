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

/**
 * Phone numbers inside free text (every string in a log line): any run of 7–15 digits after a "+", and
 * Cameroon numbers written without it (237 and 9 digits). Bounded by non-digits only, not by word
 * boundaries: `PayoutFor_237670000001` hides none. (Not the 9-digit national form: runs like it occur
 * inside payout ids, which logs must keep whole; text a client chooses gets maskEveryPhoneForm.)
 */
const PHONE_IN_TEXT = /\+\d{7,15}(?!\d)|(?<!\d)237\d{9}(?!\d)/g;

export function maskPhoneNumbers(text: string): string {
  return text.replace(PHONE_IN_TEXT, (n) => maskMsisdn(n));
}

/** Cameroon's national form as well (9 digits, a mobile's leading 6), and the international 00237 form. */
const NATIONAL_IN_TEXT = /(?<!\d)(?:00237)?6\d{8}(?!\d)/g;

/**
 * Text that may quote a number in any form, so a phone number in it must not survive: an error's message
 * (a library's, a bug's), and the names a client chooses that end up in logs and metric labels (an
 * operation name). Masked like other text, and the national and 00237 forms too: a payout id in such
 * text may lose a few digits.
 */
export function maskEveryPhoneForm(text: string): string {
  // `670000001` → `6*****001`: what the E.164 mask shows of the same number (`+2376*****001`).
  return maskPhoneNumbers(text).replace(NATIONAL_IN_TEXT, (n) => `${n.slice(-9, -8)}*****${n.slice(-3)}`);
}
