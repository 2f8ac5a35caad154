import { z } from 'zod';
import { SANDBOX_DEFAULTS, ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE } from './zopay/defaults.js';

/** The only module that reads process.env. Everything else receives a frozen Config. */

/** The shortest AUTH_JWT_SECRET the gateway starts with (and `npm run token` mints with). */
export const MIN_JWT_SECRET_LENGTH = 32;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Whole numbers in plain decimal digits: `0x10`, `1e3` or `1_000` would read as numbers nobody meant. */
const wholeIn = (min: number, max: number) =>
  z.string().regex(/^-?\d+$/, 'expected a whole number in decimal digits').transform(Number).pipe(z.number().int().min(min).max(max));
const int = (def: number, min: number, max: number) => wholeIn(min, max).default(def);
/** Unset stays undefined so that the caller can pick an environment-dependent default. */
const optionalBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));
/** Blank values never reach the schema (see withoutBlanks), so unset is the only empty case left. */
const optionalString = z.string().optional();
const optionalUrl = (protocols: RegExp) =>
  optionalString.pipe(
    z
      .string()
      .url()
      // A value zod's url() refused already has its issue; the refinement still runs and must not throw.
      .refine((v) => !URL.canParse(v) || protocols.test(new URL(v).protocol), { message: 'unsupported URL scheme' })
      .optional(),
  );
/**
 * The ZoPay transport takes an origin only: requests are signed with their path from the root, so a base
 * path would break every signature. Trailing slashes are allowed (loadConfig drops them).
 */
function isOrigin(u: URL): boolean {
  // user:password@ would be dropped by the client (the secret travels in the signature, not in the URL).
  return /^\/*$/.test(u.pathname) && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
}
/**
 * `2026-12-01T00:00:00Z`, `…T01:00+01:00`: an ISO-8601 instant with its offset, and a date that exists
 * (Date.parse rolls February 30 over to March 2 instead of refusing it).
 */
function isIsoInstant(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(v);
  if (!m || Number.isNaN(Date.parse(v))) return false;
  const [year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = m.slice(1);
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return (
    calendar.getUTCMonth() === Number(month) - 1 &&
    calendar.getUTCDate() === Number(day) &&
    Number(hour) < 24 &&
    Number(minute) < 60 &&
    Number(second) < 60 &&
    Number(offsetHours) < 24 &&
    Number(offsetMinutes) < 60
  );
}

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(4000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),

  ZOPAY_BASE_URL: optionalUrl(/^https?:$/).refine((v) => v === undefined || !URL.canParse(v) || isOrigin(new URL(v)), {
    message: 'must be an origin (scheme://host[:port]) without credentials, a path, a query or a fragment: the gateway adds the /api/v1/… paths itself and signs every call',
  }),
  ZOPAY_API_KEY: z.string().min(1).default(SANDBOX_DEFAULTS.apiKey),
  ZOPAY_API_SECRET: z.string().min(1).default(SANDBOX_DEFAULTS.apiSecret),
  ZOPAY_ORIGIN: z.string().min(1).default(SANDBOX_DEFAULTS.origin),
  ZOPAY_WEBHOOK_SECRET: z.string().min(1).default(SANDBOX_DEFAULTS.webhookSecret),
  ZOPAY_WEBHOOK_SECRET_PREVIOUS: optionalString,
  // The end of the rotation window: an ISO-8601 instant with its offset (2026-12-01T00:00:00Z).
  ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: optionalString.refine((v) => v === undefined || isIsoInstant(v), {
    message: 'expected an ISO-8601 instant with its offset, such as 2026-12-01T00:00:00Z (a real date: not February 30)',
  }),
  ZOPAY_QUOTE_PATH: z.string().startsWith('/').default('/api/v1/disbursements/quote'),
  ZOPAY_CONNECT_TIMEOUT_MS: int(3_000, 100, 60_000),
  ZOPAY_REQUEST_TIMEOUT_MS: int(10_000, 100, 120_000),
  ZOPAY_OPERATION_DEADLINE_MS: int(20_000, 500, 300_000),
  ZOPAY_MAX_ATTEMPTS: int(4, 1, 10),
  ZOPAY_RATE_LIMIT_PER_MINUTE: int(ZOPAY_DEFAULT_RATE_LIMIT_PER_MINUTE, 1, 100_000),
  ZOPAY_BREAKER_FAILURES: int(5, 1, 1_000),
  ZOPAY_BREAKER_COOLDOWN_MS: int(30_000, 100, 600_000),

  SANDBOX_PORT: int(SANDBOX_DEFAULTS.port, 0, 65535),
  SANDBOX_TIME_SCALE: z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number such as 1 or 0.5').transform(Number).pipe(z.number().positive().max(100_000)).default(1),

  REDIS_URL: optionalUrl(/^rediss?:$/),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('zopay:'),

  AUTH_JWT_SECRET: optionalString.pipe(z.string().min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`).optional()),
  AUTH_JWKS_URL: optionalUrl(/^https?:$/),
  AUTH_JWT_ISSUER: optionalString,
  AUTH_JWT_AUDIENCE: optionalString,

  GRAPHIQL_ENABLED: optionalBool,
  INTROSPECTION_ENABLED: optionalBool,
  CORS_ORIGINS: csv,
  // Country calling codes recipients may have (E.164 codes are prefix-free), or `*` for any.
  RECIPIENT_COUNTRY_CODES: optionalString
    .transform((v) => v?.split(',').map((c) => c.trim()).filter(Boolean))
    .refine((codes) => codes === undefined || (codes.length > 0 && (codes.join() === '*' || codes.every((c) => /^[1-9]\d{0,2}$/.test(c)))), {
      message: 'expected country calling codes such as 237 or 237,225 (1 to 3 digits, no "+"), or * for any country',
    }),
  MAX_BODY_BYTES: int(100_000, 1_000, 10_000_000),
  WEBHOOK_MAX_BODY_BYTES: int(64_000, 1_000, 10_000_000),
  HTTP_REQUEST_TIMEOUT_MS: int(30_000, 100, 300_000),
  WEBHOOK_DEDUPE_TTL_SECONDS: int(7 * 24 * 3600, 8 * 3600, 90 * 24 * 3600),
  IDEMPOTENCY_TTL_SECONDS: int(24 * 3600, 24 * 3600, 90 * 24 * 3600),
  IDEMPOTENCY_LOCK_TTL_MS: wholeIn(1_000, 600_000).optional(),
  RECONCILE_INTERVAL_MS: int(15_000, 1_000, 600_000),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(20, 1, 1_000),
  WS_KEEPALIVE_MS: int(12_000, 100, 600_000),
  SUBSCRIPTIONS_PER_CALLER: int(100, 1, 100_000),
  SUBSCRIBE_SETUPS_IN_FLIGHT: int(256, 1, 100_000),
  MUTATION_RATE_LIMIT_PER_MINUTE: int(120, 1, 1_000_000),
  GRAPHQL_MAX_DEPTH: int(8, 2, 50),
  GRAPHQL_MAX_ALIASES: int(15, 1, 1_000),
  GRAPHQL_MAX_COST: int(5_000, 10, 1_000_000),
  GRAPHQL_MAX_TOKENS: int(1_000, 50, 100_000),
  GRAPHQL_MAX_DIRECTIVES: int(20, 1, 1_000),
  SHUTDOWN_GRACE_MS: int(10_000, 0, 120_000),
  SHUTDOWN_DRAIN_MS: int(1_000, 0, 30_000),
});

type Env = z.infer<typeof EnvSchema>;

/** Every variable loadConfig reads. */
export const CONFIG_VARIABLES: readonly (keyof Env)[] = EnvSchema.keyof().options;

/**
 * A blank value (empty or only whitespace) means unset, for every variable: `PORT=` left empty in a
 * deployment template gets the default. Given to the schema, it would become 0 for a number
 * (Number('') is 0: a random port, no shutdown grace) or fail with a misleading "too small".
 */
function withoutBlanks(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value.trim() !== '') kept[name] = value;
  return kept;
}

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  zopay: {
    /** Undefined: start the embedded sandbox and use it. */
    baseUrl: string | undefined;
    apiKey: string;
    apiSecret: string;
    origin: string;
    /** The current secret, then the previous one while a rotation lasts. */
    webhookSecrets: readonly string[];
    /** When the previous secret stops being accepted; undefined: when it is removed. */
    previousWebhookSecretUntilMs: number | undefined;
    quotePath: string;
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    operationDeadlineMs: number;
    maxAttempts: number;
    rateLimitPerMinute: number;
    /** Upstream failures (5xx, timeouts, connection errors) among the recent answers that open the circuit, if at least half. */
    breakerFailures: number;
    breakerCooldownMs: number;
  };
  sandbox: { port: number; timeScale: number };
  redis: { url: string | undefined; keyPrefix: string };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  http: {
    graphiql: boolean;
    introspection: boolean;
    corsOrigins: readonly string[];
    maxBodyBytes: number;
    webhookMaxBodyBytes: number;
    /** Longest a client may take to send a whole request, headers and body (408 after it). */
    requestTimeoutMs: number;
  };
  webhookDedupeTtlSeconds: number;
  /** Country calling codes a recipient's number may start with; null: any. */
  recipientCountryCodes: readonly string[] | null;
  idempotencyTtlSeconds: number;
  /** How long an execute holds its key; after a crash another instance takes over once it expires. */
  idempotencyLockTtlMs: number;
  reconcileIntervalMs: number;
  wsMaxSubscriptionsPerConnection: number;
  /** Ping interval; a socket that did not answer the previous ping is closed. */
  wsKeepAliveMs: number;
  subscriptionsPerCaller: number;
  /** Subscriptions being set up at once (auth, watch, snapshot); the rest wait their turn. */
  subscribeSetupsInFlight: number;
  mutationRateLimitPerMinute: number;
  limits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number; maxDirectives: number };
  shutdownGraceMs: number;
  /** After SIGTERM, keep accepting connections this long and answer them 503 (instead of resetting them). */
  shutdownDrainMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Parses and checks the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const { e, failed, problems } = parseEnv(withoutBlanks(env));
  if (e) problems.push(...checkEnv(e, failed));
  if (!e || problems.length > 0) throw new ConfigError(problems);
  const isProduction = e.NODE_ENV === 'production';

  const devDefault = !isProduction;
  const config: Config = {
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    zopay: {
      baseUrl: e.ZOPAY_BASE_URL?.replace(/\/+$/, ''),
      apiKey: e.ZOPAY_API_KEY,
      apiSecret: e.ZOPAY_API_SECRET,
      origin: e.ZOPAY_ORIGIN,
      webhookSecrets: [e.ZOPAY_WEBHOOK_SECRET, ...(e.ZOPAY_WEBHOOK_SECRET_PREVIOUS ? [e.ZOPAY_WEBHOOK_SECRET_PREVIOUS] : [])],
      previousWebhookSecretUntilMs: e.ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL === undefined ? undefined : Date.parse(e.ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL),
      quotePath: e.ZOPAY_QUOTE_PATH,
      connectTimeoutMs: e.ZOPAY_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: e.ZOPAY_REQUEST_TIMEOUT_MS,
      operationDeadlineMs: e.ZOPAY_OPERATION_DEADLINE_MS,
      maxAttempts: e.ZOPAY_MAX_ATTEMPTS,
      rateLimitPerMinute: e.ZOPAY_RATE_LIMIT_PER_MINUTE,
      breakerFailures: e.ZOPAY_BREAKER_FAILURES,
      breakerCooldownMs: e.ZOPAY_BREAKER_COOLDOWN_MS,
    },
    sandbox: { port: e.SANDBOX_PORT, timeScale: e.SANDBOX_TIME_SCALE },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
    },
    http: {
      graphiql: e.GRAPHIQL_ENABLED ?? devDefault,
      introspection: e.INTROSPECTION_ENABLED ?? devDefault,
      corsOrigins: e.CORS_ORIGINS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    },
    webhookDedupeTtlSeconds: e.WEBHOOK_DEDUPE_TTL_SECONDS,
    recipientCountryCodes: e.RECIPIENT_COUNTRY_CODES === undefined ? ['237'] : e.RECIPIENT_COUNTRY_CODES.join() === '*' ? null : e.RECIPIENT_COUNTRY_CODES,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    // Must outlive one execute (deadline) so a live request is never taken over.
    idempotencyLockTtlMs: Math.max(e.IDEMPOTENCY_LOCK_TTL_MS ?? 0, e.ZOPAY_OPERATION_DEADLINE_MS + 5_000),
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    wsMaxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    wsKeepAliveMs: e.WS_KEEPALIVE_MS,
    subscriptionsPerCaller: e.SUBSCRIPTIONS_PER_CALLER,
    subscribeSetupsInFlight: e.SUBSCRIBE_SETUPS_IN_FLIGHT,
    mutationRateLimitPerMinute: e.MUTATION_RATE_LIMIT_PER_MINUTE,
    limits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
  };
  return deepFreeze(config);
}

interface ParsedEnv {
  /** Undefined only when the variables that parsed cannot make an Env on their own. */
  e: Env | undefined;
  /** Variables whose value was refused: in `e` they hold their default. */
  failed: ReadonlySet<string>;
  problems: string[];
}

/**
 * The variables that fail are reported, then the rest is parsed again without them (their defaults stand
 * in), so that checkEnv still runs: one start-up message names the production refusals along with a
 * mistyped LOG_LEVEL, instead of the operator finding them one restart at a time.
 */
function parseEnv(set: Record<string, string>): ParsedEnv {
  const first = EnvSchema.safeParse(set);
  if (first.success) return { e: first.data, failed: new Set(), problems: [] };
  const issues = first.error.issues;
  const failed = new Set(issues.map((i) => String(i.path[0] ?? '')));
  const rest = Object.fromEntries(Object.entries(set).filter(([name]) => !failed.has(name)));
  const second = EnvSchema.safeParse(rest);
  return {
    e: second.success ? second.data : undefined,
    failed,
    problems: issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  };
}

/**
 * Checks across variables, and what production refuses. A check that reads a variable whose value was
 * refused is skipped: that variable is already named, and its stand-in default would give a false report
 * (a NODE_ENV typo is not known to mean production; a too-short AUTH_JWT_SECRET is not a missing one).
 */
function checkEnv(e: Env, failed: ReadonlySet<string>): string[] {
  const parsed = (...names: (keyof Env)[]): boolean => names.every((n) => !failed.has(n));
  const problems: string[] = [];
  if (parsed('NODE_ENV') && e.NODE_ENV === 'production') {
    if (parsed('AUTH_JWT_SECRET', 'AUTH_JWKS_URL') && !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) {
      problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL: required in production (client authentication)');
    }
    if (parsed('ZOPAY_BASE_URL')) {
      if (!e.ZOPAY_BASE_URL) {
        problems.push('ZOPAY_BASE_URL: required in production (the embedded sandbox is for development)');
      } else {
        const u = new URL(e.ZOPAY_BASE_URL);
        if (u.protocol !== 'https:' && !LOOPBACK_HOSTS.has(u.hostname)) {
          problems.push('ZOPAY_BASE_URL: must be https:// in production (loopback hosts excepted)');
        }
      }
    }
    const sandboxValues: [keyof Env, string][] = [
      ['ZOPAY_API_KEY', SANDBOX_DEFAULTS.apiKey],
      ['ZOPAY_API_SECRET', SANDBOX_DEFAULTS.apiSecret],
      ['ZOPAY_WEBHOOK_SECRET', SANDBOX_DEFAULTS.webhookSecret],
      // Signed into every request: ZoPay refuses a merchant's calls from an origin it does not know.
      ['ZOPAY_ORIGIN', SANDBOX_DEFAULTS.origin],
    ];
    for (const [name, def] of sandboxValues) {
      if (parsed(name) && e[name] === def) problems.push(`${name}: must be set to your real ZoPay value in production`);
    }
    // The sandbox's secret is public (it is in this repository): as the previous secret of a rotation it
    // would let anyone sign webhooks.
    if (parsed('ZOPAY_WEBHOOK_SECRET_PREVIOUS') && e.ZOPAY_WEBHOOK_SECRET_PREVIOUS === SANDBOX_DEFAULTS.webhookSecret) {
      problems.push('ZOPAY_WEBHOOK_SECRET_PREVIOUS: must not be the sandbox secret in production');
    }
  }
  if (parsed('ZOPAY_WEBHOOK_SECRET_PREVIOUS', 'ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL') && e.ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL && !e.ZOPAY_WEBHOOK_SECRET_PREVIOUS) {
    problems.push('ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL: set without ZOPAY_WEBHOOK_SECRET_PREVIOUS (the end of a rotation that has no previous secret)');
  }
  if (parsed('AUTH_JWKS_URL', 'AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE') && e.AUTH_JWKS_URL && (!e.AUTH_JWT_ISSUER || !e.AUTH_JWT_AUDIENCE)) {
    problems.push('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE: required with AUTH_JWKS_URL');
  }
  return problems;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
