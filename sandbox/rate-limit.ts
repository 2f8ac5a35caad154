/**
 * Fixed 60-second window per API key (zopay-api.md §9 #22). A window opens with the key's first request
 * after the previous one ended; expired windows are dropped on the next call, so idle keys cost nothing.
 */
export const RATE_WINDOW_MS = 60_000;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(apiKey: string, now: number): RateDecision;
  size(): number;
}

export function createRateLimiter(limitPerWindow: number, windowMs = RATE_WINDOW_MS): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(apiKey, now) {
      for (const [k, w] of windows) if (now - w.start >= windowMs || now < w.start) windows.delete(k);
      let w = windows.get(apiKey);
      if (!w) {
        w = { start: now, count: 0 };
        windows.set(apiKey, w);
      }
      if (w.count >= limitPerWindow) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) };
      }
      w.count += 1;
      return { allowed: true };
    },
    size: () => windows.size,
  };
}
