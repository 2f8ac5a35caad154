import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * The clock of state that instances share through Redis: idempotency locks, rate limits, quote expiry
 * checks in scripts, owner indexes. Each instance stamps that state with its own `now`, so instances must
 * agree on the time; one whose wall clock is off (T50) would otherwise stretch or cut other instances'
 * locks and, through a rate limiter's stored arrival time, lock a caller out on every instance for as long
 * as its clock is ahead. This clock is the local one plus the measured offset to Redis's `TIME`, so every
 * instance sharing a Redis reads the same time (within half a round trip), and a clock that is off is
 * reported. ZoPay's signatures, tokens and webhooks keep the local clock: ZoPay and the token issuer judge
 * those against their own time.
 */
export interface RedisClock {
  now(): number;
  /** Redis time minus local time, ms, as last measured. */
  offsetMs(): number;
  /** Measures again now (the clock does so by itself every `resyncMs`). */
  sync(): Promise<void>;
  stop(): void;
}

export interface RedisClockOptions {
  redis: Pick<Redis, 'time'>;
  local: { now(): number };
  log: Pick<Logger, 'warn' | 'error' | 'info'>;
  /** Default 60 s. */
  resyncMs?: number;
  /** From this offset on, the log says so (warn). Default 1 s. */
  warnOffsetMs?: number;
}

/** ZoPay's signature window (zopay-api.md): beyond it, every upstream call is refused. */
const ZOPAY_WINDOW_MS = 5 * 60_000;
/** Round trips per measurement; the shortest one is kept. */
const SAMPLES = 3;

export async function createRedisClock(opts: RedisClockOptions): Promise<RedisClock> {
  const warnAt = opts.warnOffsetMs ?? 1_000;
  let offset = 0;
  /** The offset last reported, so a steady offset is logged once, not every minute. */
  let reported = 0;

  const measure = async (): Promise<number> => {
    let best: { rtt: number; offset: number } | undefined;
    for (let i = 0; i < SAMPLES; i++) {
      const sent = opts.local.now();
      const [seconds, micros] = await opts.redis.time();
      const received = opts.local.now();
      const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const rtt = received - sent;
      if (!Number.isFinite(redisMs)) throw new Error('Redis TIME answered something that is not a time');
      if (!best || rtt < best.rtt) best = { rtt, offset: Math.round(redisMs - (sent + received) / 2) };
    }
    return (best as { offset: number }).offset;
  };

  const sync = async () => {
    try {
      offset = await measure();
    } catch (err) {
      // Keep the last offset: Redis being away is reported by the connection, and its stores fail anyway.
      opts.log.warn({ err: err instanceof Error ? err.name : 'unknown' }, 'could not read Redis TIME; the shared clock keeps its last offset');
      return;
    }
    const size = Math.abs(offset);
    const changed = Math.abs(offset - reported) >= warnAt;
    if (size >= warnAt && changed) {
      const fields = { offsetMs: offset, localTime: new Date(opts.local.now()).toISOString() };
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

  await sync();
  const timer = setInterval(() => void sync(), opts.resyncMs ?? 60_000);
  timer.unref();
  return {
    now: () => opts.local.now() + offset,
    offsetMs: () => offset,
    sync,
    stop: () => clearInterval(timer),
  };
}
