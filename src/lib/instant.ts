/**
 * ISO-8601 instants, read field by field: a calendar date, "T", a clock time with an optional fraction
 * of a second, and an offset (Z, ±hh:mm or ±hhmm). Date.parse alone is no check: it rolls an impossible
 * day over (February 31 becomes March 3), takes 24:00, reads a time without an offset in the host's zone
 * and takes much that is no date at all ("1", "soon 12").
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

export type InstantReading = { ok: true; ms: number } | { ok: false; reason: 'format' | 'unreal' };

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is this month's last day (leap years included).
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/** The instant `text` names, in ms since the epoch; `format` when it is not written as above, `unreal` when no such date, time or offset exists. */
export function readIsoInstant(text: string): InstantReading {
  const m = ISO_INSTANT.exec(text);
  if (!m) return { ok: false, reason: 'format' };
  const n = (i: number) => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [n(1), n(2), n(3), n(4), n(5), n(6), n(9), n(10)];
  const real = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!real) return { ok: false, reason: 'unreal' };
  const millis = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millis);
  const offsetMs = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return { ok: true, ms: d.getTime() - offsetMs };
}

/** The same instant written in UTC with milliseconds ("2026-01-15T10:00:00.000Z"), or undefined when `text` names none. */
export function toUtcInstant(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const read = readIsoInstant(text);
  return read.ok ? new Date(read.ms).toISOString() : undefined;
}
