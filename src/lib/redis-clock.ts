import type { Logger } from './logger.js';

/**
 * The clock of state that instances share through Redis: idempotency locks, rate limits, quote expiry
 * checks in scripts, owner indexes. Each instance stamps that state with its own `now`, so instances must
 * agree on the time; one whose wall clock is off (T50) would otherwise stretch or cut other instances'
 * locks and, through a rate limiter's stored arrival time, lock a caller out on every instance for as long
 * as its clock is ahead. This clock reads Redis's `TIME` and counts on from it with the monotonic clock,
 * so every instance sharing a Redis reads the same time (within half a round trip), a step of the host's
 * clock (NTP, a resumed VM) does not move it, and a host clock that is off is reported. It measures again
 * every `resyncMs` and whenever the caller says the connection is back (a restarted or failed-over Redis
 * may keep other time). ZoPay's signatures, tokens, webhooks and deadlines keep the host's clock: ZoPay
 * and the token issuer judge those against their own time.
 */
export interface RedisClock {
  now(): number;
  /** Redis time minus the host's wall clock, ms, as last measured (what the log reports). */
  offsetMs(): number;
  /** Measures again now (the clock does so by itself every `resyncMs`). Never throws. */
  sync(): Promise<void>;
  stop(): void;
}

export interface RedisClockOptions {
  /** Redis's TIME: seconds and microseconds (ioredis types them as numbers; the wire has strings). */
  redis: { time(): Promise<readonly (string | number)[]> };
  /** The host's wall clock, only to report how far off it is. Default Date. */
  wall?: { now(): number };
  /** Monotonic milliseconds. Default performance.now. */
  monotonic?: () => number;
  log: Pick<Logger, 'warn' | 'error' | 'info'>;
  /** Default 60 s. */
  resyncMs?: number;
  /** From this offset on, the log says so (warn). Default 1 s. */
  warnOffsetMs?: number;
  /** Tries of the first measurement before giving up (the caller should not start without it). Default 3. */
  startTries?: number;
  /** Pause between those tries. Default 200 ms. */
  startRetryMs?: number;
  /** Whether the connection is up; a resync is skipped (silently) while it is not. */
  ready?: () => boolean;
}

/** ZoPay's signature window (zopay-api.md): beyond it, every upstream call is refused. */
const ZOPAY_WINDOW_MS = 5 * 60_000;
/** Round trips per measurement; the shortest one is kept. */
const SAMPLES = 3;

export class RedisTimeUnavailableError extends Error {
  override readonly name = 'RedisTimeUnavailableError';
}

export async function createRedisClock(opts: RedisClockOptions): Promise<RedisClock> {
  const warnAt = opts.warnOffsetMs ?? 1_000;
  const wall = opts.wall ?? Date;
  const mono = opts.monotonic ?? (() => performance.now());
  /** Redis time at monotonic instant `at`. */
  let base = { redisMs: 0, at: 0 };
  let offset = 0;
  /** The offset last reported, so a steady offset is logged once, not every minute. */
  let reported = 0;

  type Reading = { rtt: number; redisMs: number; at: number; offset: number };
  const measure = async (): Promise<Reading> => {
    let best: Reading | undefined;
    for (let i = 0; i < SAMPLES; i++) {
      const sent = mono();
      const wallSent = wall.now();
      const [seconds, micros] = await opts.redis.time();
      const received = mono();
      const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      if (!Number.isFinite(redisMs)) throw new RedisTimeUnavailableError('Redis TIME answered something that is not a time');
      const rtt = received - sent;
      if (!best || rtt < best.rtt) best = { rtt, redisMs, at: (sent + received) / 2, offset: Math.round(redisMs - (wallSent + rtt / 2)) };
    }
    return best as Reading;
  };

  const report = () => {
    const size = Math.abs(offset);
    if (size >= warnAt && Math.abs(offset - reported) >= warnAt) {
      const fields = { offsetMs: offset, hostTime: new Date(wall.now()).toISOString() };
      if (size > ZOPAY_WINDOW_MS) {
        opts.log.error(fields, "this instance's clock is more than 5 minutes off Redis's: ZoPay will refuse its signed calls and webhooks will be refused here; shared state uses Redis's time. Fix the host's time (NTP)");
      } else {
        opts.log.warn(fields, "this instance's clock is off Redis's; shared state (locks, rate limits) uses Redis's time. Fix the host's time (NTP)");
      }
      reported = offset;
    } else if (size < warnAt && Math.abs(reported) >= warnAt) {
      opts.log.info({ offsetMs: offset }, "this instance's clock agrees with Redis's again");
      reported = 0;
    }
  };

  const apply = (m: Reading) => {
    base = { redisMs: m.redisMs, at: m.at };
    offset = m.offset;
    report();
  };

  const tries = Math.max(1, opts.startTries ?? 3);
  for (let attempt = 1; ; attempt++) {
    try {
      apply(await measure());
      break;
    } catch (err) {
      if (attempt >= tries) {
        const why = err instanceof Error ? err.message.slice(0, 120) : 'unknown';
        throw new RedisTimeUnavailableError(`could not read Redis TIME (${why}); the gateway stamps shared state with Redis's time and does not start without it`);
      }
      await new Promise((resolve) => setTimeout(resolve, opts.startRetryMs ?? 200));
    }
  }

  let syncing: Promise<void> | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    if (stopped || (opts.ready && !opts.ready())) return;
    try {
      apply(await measure());
    } catch (err) {
      // Keep counting from the last reading: Redis being away is reported by the connection itself.
      if (!stopped && (!opts.ready || opts.ready())) {
        opts.log.warn({ err: err instanceof Error ? err.message.slice(0, 120) : 'unknown' }, 'could not read Redis TIME; the shared clock counts on from its last reading');
      }
    }
  };
  // One measurement at a time; cleared once it has settled (never before it is stored, even when it
  // returns at once).
  const sync = (): Promise<void> => {
    syncing ??= run().finally(() => {
      syncing = undefined;
    });
    return syncing;
  };

  const timer = setInterval(() => void sync(), opts.resyncMs ?? 60_000);
  timer.unref();
  return {
    now: () => base.redisMs + (mono() - base.at),
    offsetMs: () => offset,
    sync,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
