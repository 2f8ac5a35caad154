import type { UpstreamPriority } from '../zopay/client-options.js';
import { BudgetExhaustedError } from './errors.js';
import type { Clock, RateLimiter } from './types.js';

export interface UpstreamBudgetOptions {
  /** Shared limiter: Redis for many instances, so they share ZoPay's per-merchant rate limit. */
  limiter: RateLimiter;
  /** ZoPay allows 100 requests per minute per API key; leave headroom for other clients of the key. */
  limitPerMinute: number;
  /** Longest a request may wait for a slot, whatever its deadline. */
  maxQueueMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Default: the system clock. Tests pass a fake one that `sleep` advances. */
  clock?: Clock;
  /** Limiter key. Default `zopay-upstream`. */
  key?: string;
}

/** The share of the budget reads leave to payments. */
export const PAYMENT_RESERVE = 0.3;

export interface UpstreamBudget {
  /**
   * Takes one upstream request slot, waiting while the budget is momentarily exhausted. Rejects with
   * BudgetExhaustedError when no slot frees up before min(deadline, now + maxQueueMs), and with
   * StoreUnavailableError when the limiter cannot be reached (nothing was sent). A read is refused while
   * fewer than PAYMENT_RESERVE of the slots are free.
   */
  acquire(deadline: number, priority?: UpstreamPriority): Promise<void>;
}

export function createUpstreamBudget(opts: UpstreamBudgetOptions): UpstreamBudget {
  const key = opts.key ?? 'zopay-upstream';
  const clock = opts.clock ?? Date;
  const limit = opts.limitPerMinute;
  const readKeepFree = Math.min(limit - 1, Math.ceil(limit * PAYMENT_RESERVE));
  const take = (priority: UpstreamPriority) =>
    opts.limiter.take({ key, limit, windowMs: 60_000, ...(priority === 'read' ? { keepFree: readKeepFree } : {}) });
  return {
    async acquire(deadline: number, priority: UpstreamPriority = 'payment'): Promise<void> {
      const cutoff = Math.min(deadline, clock.now() + opts.maxQueueMs);
      for (;;) {
        const result = await take(priority);
        if (result.allowed) return;
        const now = clock.now();
        // Another waiter may win the slot we waited for: loop, never past the cutoff.
        if (now + result.retryAfterMs > cutoff) throw new BudgetExhaustedError(result.retryAfterMs / 1000);
        await opts.sleep(result.retryAfterMs);
      }
    },
  };
}
