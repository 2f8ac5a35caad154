/**
 * The sandbox program's environment, validated in one place (main.ts is its only caller). A bad value
 * yields every problem at once, each naming its variable.
 */
import { z } from 'zod';
import { SANDBOX_DEFAULTS, ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE } from '../src/zopay/defaults.js';
import type { SandboxOptions } from './types.js';

export const DEFAULT_WEBHOOK_URL = 'http://127.0.0.1:4000/webhooks/zopay';
/** Values of SANDBOX_WEBHOOK_URL that turn webhook delivery off. */
const WEBHOOKS_OFF = new Set(['', 'off', 'none']);

const SandboxEnv = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(SANDBOX_DEFAULTS.port),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  ZOPAY_API_KEY: z.string().min(1).default(SANDBOX_DEFAULTS.apiKey),
  ZOPAY_API_SECRET: z.string().min(1).default(SANDBOX_DEFAULTS.apiSecret),
  /** Comma-separated list accepted as x-zo-origin. */
  ZOPAY_ORIGIN: z.string().min(1).default(SANDBOX_DEFAULTS.origin),
  ZOPAY_WEBHOOK_SECRET: z.string().min(1).default(SANDBOX_DEFAULTS.webhookSecret),
  SANDBOX_WEBHOOK_URL: z
    .string()
    .default(DEFAULT_WEBHOOK_URL)
    .refine((v) => WEBHOOKS_OFF.has(v.trim().toLowerCase()) || /^https?:\/\/[^\s]+$/.test(v), {
      message: 'must be an http(s) URL, or "off"',
    }),
  SANDBOX_TIME_SCALE: z.coerce.number().positive().max(1_000_000).default(1),
  SANDBOX_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE),
  SANDBOX_PROCESSING_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(3_000),
  SANDBOX_STARTING_BALANCE: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,2})?$/, 'must be a decimal string such as "100000000"')
    .default('100000000'),
});

export type SandboxConfig = { ok: true; options: SandboxOptions } | { ok: false; problems: string[] };

/** Empty strings count as unset (except SANDBOX_WEBHOOK_URL, where empty means "off"). */
export function loadSandboxConfig(env: Readonly<Record<string, string | undefined>>): SandboxConfig {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(SandboxEnv.shape)) {
    const v = env[key];
    if (v !== undefined && (v.trim() !== '' || key === 'SANDBOX_WEBHOOK_URL')) cleaned[key] = v;
  }
  const parsed = SandboxEnv.safeParse(cleaned);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  }
  const e = parsed.data;
  return {
    ok: true,
    options: {
      port: e.SANDBOX_PORT,
      host: e.SANDBOX_HOST,
      apiKey: e.ZOPAY_API_KEY,
      apiSecret: e.ZOPAY_API_SECRET,
      allowedOrigins: e.ZOPAY_ORIGIN.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      webhookSecret: e.ZOPAY_WEBHOOK_SECRET,
      webhookUrl: WEBHOOKS_OFF.has(e.SANDBOX_WEBHOOK_URL.trim().toLowerCase()) ? null : e.SANDBOX_WEBHOOK_URL,
      timeScale: e.SANDBOX_TIME_SCALE,
      rateLimitPerMinute: e.SANDBOX_RATE_LIMIT,
      processingDelayMs: e.SANDBOX_PROCESSING_DELAY_MS,
      startingBalance: e.SANDBOX_STARTING_BALANCE,
    },
  };
}
