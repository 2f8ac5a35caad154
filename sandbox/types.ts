/**
 * Public types of the ZoPay sandbox. Other code (gateway tests, the chaos harness) programs against these
 * names: add fields freely, never rename.
 */
import type { DeliveryRecord } from './webhook-types.js';
import type { SandboxLedger } from './ledger-types.js';

export type { DeliveryRecord, WebhookAttempt, DeliveryStatus } from './webhook-types.js';
export type { SandboxLedger, SandboxPayout, SandboxQuote, PayoutError } from './ledger-types.js';

export type RouteName = 'quote' | 'execute' | 'get' | 'list';

export const FAULT_KINDS = [
  'http500',
  'http503',
  'rate429',
  'slow',
  'commitThenHang',
  'commitThenReset',
  'resetBeforeCommit',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  route: RouteName | 'any';
  kind: FaultKind;
  /** Applies to the next N matching, correctly authenticated (and not rate-limited) requests. */
  times: number;
  /** For 'slow': real milliseconds to wait (not time-scaled) before answering normally. Default 1000. */
  delayMs?: number;
  /** For 'rate429' (default 1): sent as the `retry_after` and `Retry-After` headers. */
  retryAfterSeconds?: number;
}

export interface WebhookFaults {
  /** Probability (0..1) that an attempt is lost in transit: nothing is sent and it counts as failed. */
  dropRate?: number;
  /** Extra copies (same delivery id, fresh signature) sent after a delivery succeeds. */
  duplicateCount?: number;
  /** Real milliseconds (not time-scaled) to wait before the first attempt of every delivery. */
  delayMs?: number;
  /** After a final event's first attempt, also send a stale `payout.processing` event. */
  outOfOrder?: boolean;
}

export interface RecordedRequest {
  /** Arrival time on the sandbox clock (ms). */
  at: number;
  method: string;
  /** Path as received, without the query string. */
  path: string;
  /** Decoded query values. */
  query: Record<string, string>;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Raw body as received (UTF-8). */
  body: string;
  /** HTTP status sent; 0 while unanswered and for requests answered by a hang or reset. */
  status: number;
  route: RouteName | 'unknown';
  /** The execute body's `idempotency_key`, when it had one. */
  idempotencyKey?: string;
  /** Set when a fault (injected rule or magic input) shaped this request's fate. */
  fault?: FaultKind;
}

export interface SandboxOptions {
  /** Port to listen on; 0 picks an ephemeral port. Default 0. */
  port?: number;
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Accepted `x-zo-key`. Default SANDBOX_DEFAULTS.apiKey. */
  apiKey?: string;
  /** HMAC secret for request signatures. Default SANDBOX_DEFAULTS.apiSecret. */
  apiSecret?: string;
  /** Secret that signs webhooks, used verbatim. Default SANDBOX_DEFAULTS.webhookSecret. */
  webhookSecret?: string;
  /** Accepted `x-zo-origin` values, compared lower-cased without trailing slashes. Default [SANDBOX_DEFAULTS.origin]. */
  allowedOrigins?: string[];
  /** Where webhooks go; null/undefined delivers none (none are recorded either). */
  webhookUrl?: string | null;
  /** Divides the payout clock, the webhook retry schedule and the webhook timeout. Default 1. */
  timeScale?: number;
  /** Fixed 60 s window per API key. Default 100. */
  rateLimitPerMinute?: number;
  /** Merchant wallet balance, decimal string. Default '100000000'. */
  startingBalance?: string;
  /** Real ms (before time scaling) from execute to the final status. Default 3000. */
  processingDelayMs?: number;
  /** Default true: a GET of a resolvable payout finalises it at once ("completes on first check"). */
  resolveOnFirstCheck?: boolean;
  /** Clock in ms (default Date.now): auth window, nonce and quote expiry, rate windows, all timestamps. */
  now?: () => number;
  /** Log sink. Default silent. Lines never carry secrets, signatures or full MSISDNs. */
  log?: (line: string) => void;
  /** Merchant id reported in resources and webhooks. Default 'merchant-sandbox-0001'. */
  merchantId?: string;
  /** Gateway fee in basis points of the amount. Default 100 (1%). */
  gatewayFeeBps?: number;
  /** Platform fee in basis points of the amount. Default 50 (0.5%). */
  platformFeeBps?: number;
  /** Per-attempt webhook timeout in real ms. Default max(30 000 / timeScale, 1 000). */
  webhookTimeoutMs?: number;
  /** Random source for the webhook drop fault (default Math.random); inject for determinism. */
  random?: () => number;
  /** Recorded requests kept (oldest dropped first). Default 10 000. */
  maxRecordedRequests?: number;
}

export interface SandboxWebhooks {
  /** Every delivery, oldest first (snapshots). */
  deliveries(): DeliveryRecord[];
  /** Deliveries that exhausted their 6 attempts and were not replayed successfully since. */
  deadLetters(): DeliveryRecord[];
  /** Re-sends one delivery once, with `X-Zo-Replay: true` and the same delivery id. Rejects for an unknown id. */
  replay(deliveryId: string): Promise<void>;
  /** Changes where future attempts go (null stops creating deliveries). */
  setUrl(url: string | null): void;
}

export interface SandboxFaults {
  inject(rule: FaultRule): void;
  /** Removes every injected rule and resets webhook faults. */
  clear(): void;
  setWebhookFaults(f: WebhookFaults): void;
  /** Rules still armed, with their remaining counts. */
  active(): FaultRule[];
}

export interface Sandbox {
  url: string;
  port: number;
  /** Stops the server, timers and pending webhook deliveries; destroys hanging sockets. */
  close(): Promise<void>;
  /** Every /api/v1 request, in arrival order. */
  requests: readonly RecordedRequest[];
  ledger: SandboxLedger;
  webhooks: SandboxWebhooks;
  faults: SandboxFaults;
  /** Same as webhooks.setUrl: where future deliveries go (the gateway's URL is often known only after start). */
  setWebhookUrl(url: string | null): void;
  /** Force a payout to a status now (emits the webhook as usual), for tests. Throws if unknown or final. */
  settle(payoutId: string, status: 'SUCCESS' | 'FAILED', error?: { code: string; message: string }): void;
}
