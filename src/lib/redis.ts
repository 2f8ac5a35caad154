import { Redis } from 'ioredis';

/**
 * Redis connections that fail fast while Redis is down.
 *
 * Money rule: a store call must never wait in ioredis' offline queue and run later behind the caller's
 * back (a queued `begin` or `recordDelivery` would execute after the client was already told to retry).
 * So command connections reject at once when the socket is not ready, in-flight commands are rejected
 * (never re-sent) when the socket drops, and a hung server is cut off by `commandTimeoutMs`.
 */

export type RedisRole = 'command' | 'subscriber';

export interface RedisConnectionOptions {
  /** Shown by `CLIENT LIST` (CLIENT SETNAME); no spaces. */
  name: string;
  /**
   * `command` for stores and PUBLISH; `subscriber` for the event bus's SUBSCRIBE connection. A subscriber
   * connection does not re-subscribe by itself after a reconnect: the event bus does, so it knows when
   * its channels are live again and can tell subscriptions to re-read their snapshots.
   */
  role: RedisRole;
  /** Per-command timeout. Default 1 500 ms. */
  commandTimeoutMs?: number;
  /** TCP connect timeout per attempt. Default 1 500 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delay grows 100, 200, 400… ms up to this cap, forever. Default 1 000 ms. */
  maxReconnectDelayMs?: number;
  /**
   * Receives connection errors. Default: `console.warn` for the first error after each successful
   * connection (a reconnect loop does not flood the log). Throwing from it is caught and ignored.
   */
  onError?: (err: Error) => void;
  /** Do not connect until the first command (or `connect()`). Default false. */
  lazyConnect?: boolean;
}

export const REDIS_DEFAULTS = {
  commandTimeoutMs: 1_500,
  connectTimeoutMs: 1_500,
  maxReconnectDelayMs: 1_000,
  keepAliveMs: 10_000,
} as const;

export function createRedisConnection(url: string, opts: RedisConnectionOptions): Redis {
  if (!/^[!-~]+$/.test(opts.name)) throw new TypeError('Redis connection name must be printable ASCII without spaces');
  const maxDelay = opts.maxReconnectDelayMs ?? REDIS_DEFAULTS.maxReconnectDelayMs;
  const redis = new Redis(url, {
    connectionName: opts.name,
    lazyConnect: opts.lazyConnect ?? false,
    connectTimeout: opts.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
    // Keep reconnecting forever with a capped backoff; callers get errors, not hangs, in the meantime.
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** Math.min(attempt - 1, 10), maxDelay),
    enableOfflineQueue: false,
    // Commands issued in the same tick share one socket write (one execute or webhook issues several).
    enableAutoPipelining: opts.role === 'command',
    // In-flight commands are rejected when the socket closes, never retried or re-sent later: our Lua
    // scripts are not idempotent from the caller's point of view (a re-run delivery reads as a duplicate).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: opts.role === 'command',
    keepAlive: REDIS_DEFAULTS.keepAliveMs,
  });

  let reported = false;
  const report =
    opts.onError ??
    ((err: Error) => {
      if (reported) return;
      reported = true;
      console.warn(`[redis:${opts.name}] connection error: ${err.message}`);
    });
  redis.on('ready', () => {
    reported = false;
  });
  redis.on('error', (err: Error) => {
    try {
      report(err);
    } catch {
      // A logging failure must not become an unhandled 'error' event.
    }
  });
  return redis;
}

/**
 * Why a Redis connection failed, safe to log: the socket error's code (ECONNREFUSED, ETIMEDOUT) or the
 * first word of a Redis error reply (WRONGPASS, NOAUTH, NOPERM, LOADING…), never the rest of a message.
 */
export function redisErrorCause(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return /^([A-Z][A-Z_]{2,31})\b/.exec(err.message)?.[1];
}

/** Resolves once the connection is ready; rejects after `timeoutMs` or if the connection has ended. */
export function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  if (redis.status === 'end') return Promise.reject(new Error('Redis connection has been closed'));
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    // The start-up failure says why (a wrong password, a refused connection), not only that it timed out.
    let lastCause: string | undefined;
    const onError = (err: Error) => {
      lastCause = redisErrorCause(err) ?? err.name;
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      redis.off('error', onError);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('Redis connection has been closed'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms${lastCause ? ` (last error: ${lastCause})` : ''}`));
    }, timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
    redis.on('error', onError);
  });
}

export interface EvictionPolicyCheck {
  /** `maxmemory-policy` as reported by INFO memory; undefined when the server did not say. */
  policy: string | undefined;
  /** True only for `noeviction`: any other policy may silently drop idempotency records (T17). */
  ok: boolean;
}

/**
 * Reads `maxmemory-policy` from `INFO memory` (works where CONFIG is disabled, as on managed Redis).
 * With any eviction policy Redis may delete an idempotency record under memory pressure, and a retried
 * key would then execute a second payout.
 */
export async function checkEvictionPolicy(redis: Redis): Promise<EvictionPolicyCheck> {
  const info = await redis.info('memory');
  const match = /^maxmemory_policy:(\S+)\s*$/m.exec(info);
  const policy = match?.[1];
  return { policy, ok: policy === 'noeviction' };
}

export class RedisConfigError extends Error {
  readonly code = 'REDIS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'RedisConfigError';
  }
}

/**
 * Start-up guard for T17. `refuse` throws a RedisConfigError (use it in production); `warn` calls `warn`
 * and carries on.
 */
export async function ensureNoEviction(
  redis: Redis,
  opts: { mode: 'refuse' | 'warn'; warn?: (message: string) => void },
): Promise<EvictionPolicyCheck> {
  const check = await checkEvictionPolicy(redis);
  if (!check.ok) {
    const message =
      `Redis maxmemory-policy is ${check.policy ?? 'unknown'}, expected noeviction: under memory pressure ` +
      'Redis could evict idempotency records and a retried key could pay out twice';
    if (opts.mode === 'refuse') throw new RedisConfigError(message);
    (opts.warn ?? ((m: string) => console.warn(m)))(message);
  }
  return check;
}

/** Reply errors that mean "Redis cannot serve now", as opposed to a bug in a command or script. */
const UNAVAILABLE_REPLY = /^(OOM|LOADING|READONLY|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/;

/**
 * True for failures caused by Redis being unreachable or unable to serve: closed or not-yet-ready
 * sockets, timeouts, aborted in-flight commands, and reply errors such as OOM, LOADING or READONLY.
 * False for other reply errors (a script or argument bug) and for non-Error values.
 */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return UNAVAILABLE_REPLY.test(err.message);
  return err.name !== 'TypeError' && err.name !== 'RangeError';
}
