import type { RateLimitInput } from './types.js';
import { assertKeyPart, assertPositiveInt } from './validate.js';

/**
 * GCRA (generic cell rate algorithm): one number per key, the theoretical arrival time (TAT). A burst of
 * `limit` is allowed, then one request every windowMs / limit. The Redis limiter runs the same arithmetic
 * in Lua; EPSILON absorbs floating-point error so that exactly `limit` requests fit in a burst.
 */
export const GCRA_EPSILON_MS = 1e-6;

export function validateRateLimit(input: RateLimitInput): number {
  assertKeyPart('key', input.key);
  assertPositiveInt('limit', input.limit);
  assertPositiveInt('windowMs', input.windowMs);
  const cost = input.cost ?? 1;
  assertPositiveInt('cost', cost);
  if (cost > input.limit) throw new TypeError('cost must not exceed limit');
  const keepFree = input.keepFree ?? 0;
  if (!Number.isInteger(keepFree) || keepFree < 0 || cost + keepFree > input.limit) throw new TypeError('keepFree must be a whole number, cost + keepFree at most limit');
  return cost;
}

export type GcraStep =
  | { allowed: true; remaining: number; tat: number; ttlMs: number }
  | { allowed: false; retryAfterMs: number };

export function gcra(storedTat: number | undefined, now: number, limit: number, windowMs: number, cost: number, keepFree = 0): GcraStep {
  const interval = windowMs / limit;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + interval * cost;
  // Allowed only if `keepFree` more would fit after it; charged `cost` alone.
  const allowAt = newTat + interval * keepFree - windowMs;
  if (allowAt - now > GCRA_EPSILON_MS) {
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(allowAt - now - GCRA_EPSILON_MS)) };
  }
  const remaining = Math.max(0, Math.floor((now + windowMs - newTat) / interval + GCRA_EPSILON_MS));
  return { allowed: true, remaining, tat: newTat, ttlMs: Math.max(1, Math.ceil(newTat - now)) };
}
