/**
 * The gateway's configuration (src/config.ts): one ConfigError naming every bad variable, and the values a
 * production instance must not start with (the sandbox's credentials and origin, no client auth).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { productionEnv } from './support.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.split(':')[0] ?? p);
    throw err;
  }
  return [];
}

const production = productionEnv();

describe('configuration', () => {
  it('accepts a complete production configuration', () => {
    expect(problems(production)).toEqual([]);
  });

  it("refuses to start in production with the sandbox's credentials or origin, naming each variable in one message", () => {
    const env = {
      ...production,
      ZOPAY_API_KEY: SANDBOX_DEFAULTS.apiKey,
      ZOPAY_API_SECRET: SANDBOX_DEFAULTS.apiSecret,
      ZOPAY_WEBHOOK_SECRET: SANDBOX_DEFAULTS.webhookSecret,
      ZOPAY_ORIGIN: SANDBOX_DEFAULTS.origin,
    };
    expect(problems(env)).toEqual(['ZOPAY_API_KEY', 'ZOPAY_API_SECRET', 'ZOPAY_WEBHOOK_SECRET', 'ZOPAY_ORIGIN']);
  });

  it("refuses the sandbox's public webhook secret as the previous secret of a rotation: anyone could sign webhooks", () => {
    expect(problems({ ...production, ZOPAY_WEBHOOK_SECRET_PREVIOUS: SANDBOX_DEFAULTS.webhookSecret })).toEqual(['ZOPAY_WEBHOOK_SECRET_PREVIOUS']);
    expect(problems({ ...production, ZOPAY_WEBHOOK_SECRET_PREVIOUS: `${SANDBOX_DEFAULTS.webhookSecret}-rotated` })).toEqual([]);
  });

  it('refuses an unset ZOPAY_ORIGIN in production: every call would carry the sandbox origin, which real ZoPay refuses', () => {
    const { ZOPAY_ORIGIN: _origin, ...env } = production;
    expect(problems(env)).toEqual(['ZOPAY_ORIGIN']);
  });

  it('names a ZOPAY_BASE_URL that is not a URL instead of failing on it', () => {
    expect(problems({ ...production, ZOPAY_BASE_URL: 'api.zopay.com' })).toEqual(['ZOPAY_BASE_URL']);
    expect(problems({ NODE_ENV: 'development', ZOPAY_BASE_URL: 'api.zopay.com', AUTH_JWKS_URL: 'not a url' })).toEqual(['ZOPAY_BASE_URL', 'AUTH_JWKS_URL']);
  });

  it('refuses a production instance without client authentication or a ZoPay URL', () => {
    const { AUTH_JWT_SECRET: _secret, ZOPAY_BASE_URL: _url, ...env } = production;
    expect(problems(env)).toEqual(['AUTH_JWT_SECRET or AUTH_JWKS_URL', 'ZOPAY_BASE_URL']);
  });
});
