/**
 * Nonces seen per API key in the last 10 minutes (zopay-api.md §2.3, §9 #7). Entries expire: the map is
 * swept from its oldest end on every call, so memory is bounded by the traffic of one window.
 */
export const NONCE_WINDOW_MS = 10 * 60 * 1000;

export interface NonceStore {
  /** True if (key, nonce) was recorded within the window. */
  seen(apiKey: string, nonce: string, now: number): boolean;
  record(apiKey: string, nonce: string, now: number): void;
  size(): number;
}

export function createNonceStore(windowMs = NONCE_WINDOW_MS): NonceStore {
  // Insertion order is arrival order, so the oldest entries sit at the front. A clock moved backwards only
  // delays a sweep; it never keeps an entry past its own expiry check in seen().
  const expiries = new Map<string, number>();
  const id = (apiKey: string, nonce: string) => `${apiKey}\u0000${nonce}`;
  const sweep = (now: number) => {
    for (const [k, expiresAt] of expiries) {
      if (expiresAt > now) break;
      expiries.delete(k);
    }
  };
  return {
    seen(apiKey, nonce, now) {
      sweep(now);
      const expiresAt = expiries.get(id(apiKey, nonce));
      return expiresAt !== undefined && expiresAt > now;
    },
    record(apiKey, nonce, now) {
      const k = id(apiKey, nonce);
      expiries.delete(k);
      expiries.set(k, now + windowMs);
    },
    size: () => expiries.size,
  };
}
