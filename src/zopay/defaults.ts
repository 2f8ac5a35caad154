/**
 * Credentials the embedded sandbox accepts and the gateway uses when none are configured. They are
 * public, development-only values: production refuses to start with them (see config.ts).
 */
export const SANDBOX_DEFAULTS = {
  apiKey: 'zo_sandbox_key_0001',
  apiSecret: 'zo_sandbox_secret_do_not_use_in_production',
  origin: 'http://localhost:4000',
  webhookSecret: 'whsec_5a0d7e1f3c9b4a2e8d6f0b1c7a3e9d5f2b8c4a6e0d1f7b3c9a5e2d8f4b6c0a1e',
  port: 9000,
} as const;

/** ZoPay's documented default: 100 requests per minute per merchant. */
export const ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE = 100;
