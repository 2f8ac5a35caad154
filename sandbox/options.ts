/** SandboxOptions with every default filled in and checked once, at start-up. */
import { SANDBOX_DEFAULTS, ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE } from '../src/zopay/defaults.js';
import { normaliseOrigin } from './auth.js';
import { parseNonNegative } from './money.js';
import type { SandboxOptions } from './types.js';

export interface ResolvedOptions {
  port: number;
  host: string;
  apiKey: string;
  apiSecret: string;
  webhookSecret: string;
  allowedOrigins: ReadonlySet<string>;
  webhookUrl: string | null;
  timeScale: number;
  rateLimitPerMinute: number;
  startingBalance: bigint;
  /** Already divided by timeScale. */
  processingDelayMs: number;
  resolveOnFirstCheck: boolean;
  now: () => number;
  log: (line: string) => void;
  merchantId: string;
  gatewayFeeBps: number;
  platformFeeBps: number;
  webhookTimeoutMs: number;
  random: () => number;
  maxRecordedRequests: number;
}

export const QUOTE_VALIDITY_MS = 15 * 60 * 1000;
/** ZoPay waits 30 s for a 2xx (§5.1). */
export const WEBHOOK_TIMEOUT_MS = 30_000;
/** A floor under the time-scaled timeout: at high scales 30 s / scale would be shorter than a local round trip. */
export const MIN_WEBHOOK_TIMEOUT_MS = 1_000;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

export function resolveOptions(o: SandboxOptions = {}): ResolvedOptions {
  const timeScale = positive('timeScale', o.timeScale ?? 1);
  const startingBalance = parseNonNegative(o.startingBalance ?? '100000000');
  if (startingBalance === undefined) throw new RangeError('startingBalance must be a decimal string with at most 2 decimals');
  const webhookUrl = o.webhookUrl ?? null;
  if (webhookUrl !== null && !/^https?:\/\//.test(webhookUrl)) throw new RangeError('webhookUrl must be an http(s) URL');
  return {
    port: nonNegativeInt('port', o.port ?? 0),
    host: o.host ?? '127.0.0.1',
    apiKey: o.apiKey ?? SANDBOX_DEFAULTS.apiKey,
    apiSecret: o.apiSecret ?? SANDBOX_DEFAULTS.apiSecret,
    webhookSecret: o.webhookSecret ?? SANDBOX_DEFAULTS.webhookSecret,
    allowedOrigins: new Set((o.allowedOrigins ?? [SANDBOX_DEFAULTS.origin]).map(normaliseOrigin)),
    webhookUrl,
    timeScale,
    rateLimitPerMinute: positive('rateLimitPerMinute', o.rateLimitPerMinute ?? ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE),
    startingBalance,
    processingDelayMs: nonNegativeInt('processingDelayMs', o.processingDelayMs ?? 3_000) / timeScale,
    resolveOnFirstCheck: o.resolveOnFirstCheck ?? true,
    now: o.now ?? Date.now,
    log: o.log ?? (() => undefined),
    merchantId: o.merchantId ?? 'merchant-sandbox-0001',
    gatewayFeeBps: nonNegativeInt('gatewayFeeBps', o.gatewayFeeBps ?? 100),
    platformFeeBps: nonNegativeInt('platformFeeBps', o.platformFeeBps ?? 50),
    webhookTimeoutMs: o.webhookTimeoutMs ?? Math.max(WEBHOOK_TIMEOUT_MS / timeScale, MIN_WEBHOOK_TIMEOUT_MS),
    random: o.random ?? Math.random,
    maxRecordedRequests: nonNegativeInt('maxRecordedRequests', o.maxRecordedRequests ?? 10_000),
  };
}
