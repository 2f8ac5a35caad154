/**
 * The gateway's configuration (src/config.ts): one ConfigError naming every bad variable, and the values a
 * production instance must not start with (the sandbox's credentials and origin, no client auth).
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type Config } from '../../src/config.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';
import { createUndiciTransport } from '../../src/zopay/transport.js';
import { productionEnv } from './support.js';

function messages(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** The variables named by the ConfigError's problems, in order. */
function problems(env: Record<string, string>): string[] {
  return messages(env).map((p) => p.split(':')[0] ?? p);
}

const production = productionEnv();

/** Every numeric variable, its default and where the config holds it. */
const NUMERIC: [name: string, defaultValue: number, read: (c: Config) => number][] = [
  ['PORT', 4000, (c) => c.port],
  ['ZOPAY_CONNECT_TIMEOUT_MS', 3_000, (c) => c.zopay.connectTimeoutMs],
  ['ZOPAY_REQUEST_TIMEOUT_MS', 10_000, (c) => c.zopay.requestTimeoutMs],
  ['ZOPAY_OPERATION_DEADLINE_MS', 20_000, (c) => c.zopay.operationDeadlineMs],
  ['ZOPAY_MAX_ATTEMPTS', 4, (c) => c.zopay.maxAttempts],
  ['ZOPAY_RATE_LIMIT_PER_MINUTE', 100, (c) => c.zopay.rateLimitPerMinute],
  ['ZOPAY_BREAKER_FAILURES', 5, (c) => c.zopay.breakerFailures],
  ['ZOPAY_BREAKER_COOLDOWN_MS', 30_000, (c) => c.zopay.breakerCooldownMs],
  ['SANDBOX_PORT', SANDBOX_DEFAULTS.port, (c) => c.sandbox.port],
  ['SANDBOX_TIME_SCALE', 1, (c) => c.sandbox.timeScale],
  ['MAX_BODY_BYTES', 100_000, (c) => c.http.maxBodyBytes],
  ['WEBHOOK_MAX_BODY_BYTES', 64_000, (c) => c.http.webhookMaxBodyBytes],
  ['HTTP_REQUEST_TIMEOUT_MS', 30_000, (c) => c.http.requestTimeoutMs],
  ['WEBHOOK_DEDUPE_TTL_SECONDS', 604_800, (c) => c.webhookDedupeTtlSeconds],
  ['IDEMPOTENCY_TTL_SECONDS', 86_400, (c) => c.idempotencyTtlSeconds],
  // Its default is the operation deadline + 5 s.
  ['IDEMPOTENCY_LOCK_TTL_MS', 25_000, (c) => c.idempotencyLockTtlMs],
  ['RECONCILE_INTERVAL_MS', 15_000, (c) => c.reconcileIntervalMs],
  ['WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, (c) => c.wsMaxSubscriptionsPerConnection],
  ['WS_KEEPALIVE_MS', 12_000, (c) => c.wsKeepAliveMs],
  ['SUBSCRIPTIONS_PER_CALLER', 100, (c) => c.subscriptionsPerCaller],
  ['SUBSCRIBE_SETUPS_IN_FLIGHT', 256, (c) => c.subscribeSetupsInFlight],
  ['MUTATION_RATE_LIMIT_PER_MINUTE', 120, (c) => c.mutationRateLimitPerMinute],
  ['GRAPHQL_MAX_DEPTH', 8, (c) => c.limits.maxDepth],
  ['GRAPHQL_MAX_ALIASES', 15, (c) => c.limits.maxAliases],
  ['GRAPHQL_MAX_COST', 5_000, (c) => c.limits.maxCost],
  ['GRAPHQL_MAX_TOKENS', 1_000, (c) => c.limits.maxTokens],
  ['GRAPHQL_MAX_DIRECTIVES', 20, (c) => c.limits.maxDirectives],
  ['SHUTDOWN_GRACE_MS', 10_000, (c) => c.shutdownGraceMs],
  ['SHUTDOWN_DRAIN_MS', 1_000, (c) => c.shutdownDrainMs],
];

const BLANKS = ['', ' ', '\t \n'];

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

  it('RECIPIENT_COUNTRY_CODES: Cameroon by default, a list of calling codes, or * for any; anything else is named', () => {
    expect(loadConfig({}).recipientCountryCodes).toEqual(['237']);
    expect(loadConfig({ RECIPIENT_COUNTRY_CODES: ' ' }).recipientCountryCodes).toEqual(['237']);
    expect(loadConfig({ RECIPIENT_COUNTRY_CODES: '237, 225' }).recipientCountryCodes).toEqual(['237', '225']);
    expect(loadConfig({ RECIPIENT_COUNTRY_CODES: '*' }).recipientCountryCodes).toBeNull();
    for (const bad of ['+237', 'CM', '0237', '2370', ',', '237,*']) expect([bad, problems({ RECIPIENT_COUNTRY_CODES: bad })]).toEqual([bad, ['RECIPIENT_COUNTRY_CODES']]);
  });

  it('ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: an ISO-8601 instant with its offset, and only with a previous secret', () => {
    const previous = { ZOPAY_WEBHOOK_SECRET_PREVIOUS: 'whsec_previous_0123456789abcdef0123456789' };
    expect(loadConfig({ ...previous, ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: '2026-12-01T00:00:00Z' }).zopay.previousWebhookSecretUntilMs).toBe(Date.UTC(2026, 11, 1));
    expect(loadConfig({ ...previous, ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: '2026-12-01T01:00:00+01:00' }).zopay.previousWebhookSecretUntilMs).toBe(Date.UTC(2026, 11, 1));
    expect(loadConfig(previous).zopay.previousWebhookSecretUntilMs).toBeUndefined();
    for (const bad of ['2026-12-01', '2026-12-01T00:00:00', 'tomorrow', '1764547200000', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-31T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T00:00:00+25:00']) {
      expect([bad, problems({ ...previous, ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: bad })]).toEqual([bad, ['ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL']]);
    }
    expect(problems({ ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: '2026-12-01T00:00:00Z' })).toEqual(['ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL']);
  });

  it('names a ZOPAY_BASE_URL that is not a URL instead of failing on it', () => {
    expect(problems({ ...production, ZOPAY_BASE_URL: 'api.zopay.com' })).toEqual(['ZOPAY_BASE_URL']);
    expect(problems({ NODE_ENV: 'development', ZOPAY_BASE_URL: 'api.zopay.com', AUTH_JWKS_URL: 'not a url' })).toEqual(['ZOPAY_BASE_URL', 'AUTH_JWKS_URL']);
  });

  it.each(['https://api.zopay.example/api/v1', 'https://api.zopay.example/v1/', 'https://api.zopay.example/?env=live', 'https://api.zopay.example/#x', 'https://merchant:s3cret@api.zopay.example', 'https://merchant@api.zopay.example/'])(
    'refuses a ZOPAY_BASE_URL that is not an origin (%s), naming it, instead of failing later at start-up',
    (url) => {
      expect(messages({ ...production, ZOPAY_BASE_URL: url })).toEqual([expect.stringMatching(/^ZOPAY_BASE_URL: must be an origin/)]);
      expect(problems({ ZOPAY_BASE_URL: url })).toEqual(['ZOPAY_BASE_URL']);
    },
  );

  it.each([
    ['https://api.zopay.example', 'https://api.zopay.example'],
    ['https://api.zopay.example/', 'https://api.zopay.example'],
    ['https://api.zopay.example:8443//', 'https://api.zopay.example:8443'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000'],
  ])('accepts the origin %s as %s, which the ZoPay transport takes', async (url, baseUrl) => {
    const config = loadConfig({ ...production, ZOPAY_BASE_URL: url });
    expect(config.zopay.baseUrl).toBe(baseUrl);
    const transport = createUndiciTransport({ baseUrl, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 });
    await transport.close();
  });

  describe('one message names every problem: values refused by parsing and what production refuses', () => {
    it('names a bad LOG_LEVEL together with everything a bare production environment lacks', () => {
      expect(problems({ NODE_ENV: 'production', LOG_LEVEL: 'loud' })).toEqual([
        'LOG_LEVEL',
        'AUTH_JWT_SECRET or AUTH_JWKS_URL',
        'ZOPAY_BASE_URL',
        'ZOPAY_API_KEY',
        'ZOPAY_API_SECRET',
        'ZOPAY_WEBHOOK_SECRET',
        'ZOPAY_ORIGIN',
      ]);
    });

    it('names bad numbers together with a sandbox credential and a JWKS URL without its claims', () => {
      const env = { ...production, PORT: '-1', MAX_BODY_BYTES: 'lots', ZOPAY_API_SECRET: SANDBOX_DEFAULTS.apiSecret, AUTH_JWKS_URL: 'https://idp.example/jwks' };
      expect(problems(env)).toEqual(['PORT', 'MAX_BODY_BYTES', 'ZOPAY_API_SECRET', 'AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE']);
    });

    it('skips a check that reads a refused value, so the operator is not told of a problem that is not there', () => {
      // Set but too short: it is not also "required".
      expect(problems({ ...production, AUTH_JWT_SECRET: 'short' })).toEqual(['AUTH_JWT_SECRET']);
      // Not a URL, or not an origin: not also "required" or "must be https".
      expect(problems({ ...production, ZOPAY_BASE_URL: 'http://api.zopay.example/v1' })).toEqual(['ZOPAY_BASE_URL']);
      // The issuer and audience requirement reads AUTH_JWKS_URL: skipped with it.
      expect(problems({ ...production, AUTH_JWKS_URL: 'not a url' })).toEqual(['AUTH_JWKS_URL']);
      // NODE_ENV unknown: whether production's refusals apply is unknown too.
      expect(problems({ NODE_ENV: 'prod', LOG_LEVEL: 'loud' })).toEqual(['NODE_ENV', 'LOG_LEVEL']);
    });
  });

  it('refuses a production instance without client authentication or a ZoPay URL', () => {
    const { AUTH_JWT_SECRET: _secret, ZOPAY_BASE_URL: _url, ...env } = production;
    expect(problems(env)).toEqual(['AUTH_JWT_SECRET or AUTH_JWKS_URL', 'ZOPAY_BASE_URL']);
  });

  describe('a blank value (empty or whitespace) means unset: the default, as if the variable were not there', () => {
    const blanks = NUMERIC.flatMap(([name, defaultValue, read]) => BLANKS.map((blank) => [name, JSON.stringify(blank), blank, defaultValue, read] as const));
    it.each(blanks)('%s=%s gives the default', (name, _shown, blank, defaultValue, read) => {
      expect(read(loadConfig({ [name]: blank }))).toBe(defaultValue);
      expect(read(loadConfig({ ...production, [name]: blank }))).toBe(defaultValue);
    });

    it.each(BLANKS.map((b) => [JSON.stringify(b), b]))('every variable set to %s gives the same configuration as none set', (_shown, blank) => {
      const allBlank = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, blank]));
      expect(loadConfig(allBlank)).toEqual(loadConfig({}));
      expect(loadConfig({ ...allBlank, ...production })).toEqual(loadConfig(production));
    });

    it('a blank ZoPay secret in production is refused as the sandbox value it falls back to', () => {
      expect(messages({ ...production, ZOPAY_API_SECRET: ' ' })).toEqual(['ZOPAY_API_SECRET: must be set to your real ZoPay value in production']);
    });
  });

  describe('a numeric value that is set but invalid is refused, naming the variable', () => {
    // Plain decimal digits only (SANDBOX_TIME_SCALE, a ratio, may have a fraction): hex, exponents and
    // separators would read as numbers nobody meant.
    const invalid = NUMERIC.flatMap(([name]) =>
      ['-1', 'ten', '1e12', '12abc', '0x10', '1e3', '1_000', ...(name === 'SANDBOX_TIME_SCALE' ? ['.5'] : ['12.0'])].map((value) => [name, value] as const),
    );
    it.each(invalid)('%s=%s', (name, value) => {
      expect(problems({ [name]: value })).toEqual([name]);
    });
  });
});
