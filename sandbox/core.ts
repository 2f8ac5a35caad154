/** The sandbox's parts, built once from resolved options and shared by the HTTP handlers. */
import { createFaultBook, type FaultBook } from './faults.js';
import { createLedger, type Ledger } from './ledger.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import { createNonceStore, type NonceStore } from './nonce-store.js';
import type { ResolvedOptions } from './options.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import type { RecordedRequest } from './types.js';
import { createWebhookSender, type WebhookSender } from './webhook-sender.js';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks.js';

export interface Core {
  opts: ResolvedOptions;
  scheduler: Scheduler;
  ledger: Ledger;
  lifecycle: Lifecycle;
  webhooks: WebhookDispatcher;
  sender: WebhookSender;
  faults: FaultBook;
  nonces: NonceStore;
  limiter: RateLimiter;
  /** Mutated in place (callers hold the same array); capped at opts.maxRecordedRequests. */
  requests: RecordedRequest[];
}

export function createCore(opts: ResolvedOptions): Core {
  const scheduler = createScheduler();
  const ledger = createLedger({ startingBalance: opts.startingBalance, merchantId: opts.merchantId });
  const sender = createWebhookSender({
    secret: opts.webhookSecret,
    timeoutMs: opts.webhookTimeoutMs,
    now: opts.now,
    scheduler,
  });
  const webhooks = createWebhookDispatcher({
    url: opts.webhookUrl,
    timeScale: opts.timeScale,
    now: opts.now,
    random: opts.random,
    scheduler,
    sender,
    log: opts.log,
  });
  const lifecycle = createLifecycle({
    ledger,
    scheduler,
    now: opts.now,
    processingDelayMs: opts.processingDelayMs,
    resolveOnFirstCheck: opts.resolveOnFirstCheck,
    onFinal: (p) => webhooks.payoutFinal(p),
    log: opts.log,
  });
  return {
    opts,
    scheduler,
    ledger,
    lifecycle,
    webhooks,
    sender,
    faults: createFaultBook(),
    nonces: createNonceStore(),
    limiter: createRateLimiter(opts.rateLimitPerMinute),
    requests: [],
  };
}

/** Records a request, dropping the oldest tenth once the cap is reached (amortised, array kept in place). */
export function recordRequest(core: Core, r: RecordedRequest): void {
  const max = core.opts.maxRecordedRequests;
  if (max === 0) return;
  if (core.requests.length >= max) core.requests.splice(0, Math.max(1, Math.floor(max / 10)));
  core.requests.push(r);
}
