/** Command-line flags of `npm run chaos` and the programmatic options of runChaos(). */
import { parseArgs } from 'node:util';
import type { RedisPersistence } from './redis.js';

export interface ChaosOptions {
  /** Payouts (idempotency keys) to drive. */
  payouts: number;
  /** Concurrent simulated clients. */
  clients: number;
  /** Distinct JWT `sub`s the clients are spread over. */
  callers: number;
  seed: number;
  quick: boolean;
  /** always: AOF fsync per write; everysec: Redis's default AOF policy (only an OS crash can lose the last second); none: a restart loses everything. */
  redisPersistence: RedisPersistence;
  /** Redis SIGKILL + restart events during the load. */
  redisRestarts: number;
  /** Redis SIGSTOP + SIGCONT events (a hung Redis) during the load. */
  redisPauses: number;
  /** Gateway SIGKILL + restart events during the load (alternating instances). */
  gatewayKills: number;
  /** Graceful gateway restarts (SIGTERM + start, a rolling deploy). */
  gatewayRestarts: number;
  /** Upstream fault rules (sandbox /__sandbox/faults) injected per 100 payouts. */
  faultRulesPer100: number;
  /** Webhook fault phases (duplicates, delay, out-of-order, drops) over the run. */
  webhookPhases: number;
  /** Share of payouts that get a mid-flight payoutStatus subscriber. */
  subscribeRate: number;
  /** Share of executes sent concurrently to both instances with the same key. */
  concurrentDuplicateRate: number;
  /** Share of completed executes replayed with the same key on the other instance. */
  replayRate: number;
  /** Share of payouts using a client key that another caller also uses (scoping). */
  sharedKeyRate: number;
  /** Share of payouts to the never-finishing …05 number (settled through the control API at the end). */
  pendingForeverRate: number;
  /** Share of payouts to the sandbox's magic fault numbers …06–…16. */
  magicRate: number;
  /** Never-finishing payouts watched over ws and SSE on both instances for the whole run. */
  sentinels: number;
  /** Sandbox clock acceleration (webhook retry schedule, processing delay). */
  timeScale: number;
  /** Real ms from execute to the final status at the sandbox (before a GET finalises it). */
  processingMs: number;
  /** Hard bound of the whole run. */
  maxMinutes: number;
  /** Directory for child logs and the JSON report (default: a fresh temp dir). */
  outDir: string | undefined;
  /** Write the full JSON report here too. */
  jsonPath: string | undefined;
  /** Print progress lines. */
  verbose: boolean;
}

export const QUICK_DEFAULTS: Partial<ChaosOptions> = {
  payouts: 300,
  clients: 24,
  faultRulesPer100: 16,
  webhookPhases: 6,
  maxMinutes: 4,
};

export function defaultOptions(overrides: Partial<ChaosOptions> = {}): ChaosOptions {
  const quick = overrides.quick ?? false;
  const base: ChaosOptions = {
    payouts: 2_000,
    clients: 48,
    callers: 8,
    seed: 1,
    quick,
    redisPersistence: 'always',
    redisRestarts: 1,
    redisPauses: 1,
    gatewayKills: 1,
    gatewayRestarts: 1,
    faultRulesPer100: 12,
    webhookPhases: 10,
    subscribeRate: 0.35,
    concurrentDuplicateRate: 0.1,
    replayRate: 0.08,
    sharedKeyRate: 0.06,
    pendingForeverRate: 0.01,
    magicRate: 0.15,
    sentinels: 2,
    timeScale: 600,
    processingMs: 1_500,
    maxMinutes: 30,
    outDir: undefined,
    jsonPath: undefined,
    verbose: false,
    ...(quick ? QUICK_DEFAULTS : {}),
  };
  const merged = { ...base, ...withoutUndefined(overrides) };
  if (!overrides.maxMinutes && !quick) merged.maxMinutes = Math.max(10, Math.ceil(merged.payouts / 400) + 8);
  return merged;
}

const USAGE = `usage: npm run chaos -- [flags]

  --payouts N          payouts to drive (default 2000; --payouts 10000 for the full run)
  --clients C          concurrent simulated clients (default 48)
  --callers K          distinct JWT subs (default 8)
  --quick              small CI configuration (${QUICK_DEFAULTS.payouts} payouts, well under 2 minutes)
  --seed S             seed of the payout plan and fault schedule (default 1)
  --redis-persistence always|everysec|none
                       Redis AOF fsync policy (default always; everysec is Redis's default, which a
                       process kill -9 does not hurt either); none: a restart loses everything
  --ephemeral-redis    same as --redis-persistence none
  --redis-restarts N   Redis kill -9 + restart events (default 1)
  --redis-pauses N     Redis SIGSTOP/SIGCONT (hung server) events (default 1)
  --gateway-kills N    gateway kill -9 + restart events (default 1)
  --gateway-restarts N graceful gateway restarts, SIGTERM + start, as in a rolling deploy (default 1)
  --fault-rate R       upstream fault rules per 100 payouts (default 12)
  --subscribe-rate P   share of payouts watched by a subscriber (default 0.35)
  --max-minutes M      hard bound of the run
  --out DIR            where child logs and report.json go (default a temp dir)
  --json FILE          also write the JSON report to FILE
  --verbose            progress lines
`;

export function parseCli(argv: readonly string[]): ChaosOptions | { help: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      payouts: { type: 'string' },
      clients: { type: 'string' },
      callers: { type: 'string' },
      quick: { type: 'boolean' },
      seed: { type: 'string' },
      'ephemeral-redis': { type: 'boolean' },
      'redis-persistence': { type: 'string' },
      'redis-restarts': { type: 'string' },
      'gateway-kills': { type: 'string' },
      'redis-pauses': { type: 'string' },
      'gateway-restarts': { type: 'string' },
      'fault-rate': { type: 'string' },
      'subscribe-rate': { type: 'string' },
      'max-minutes': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: USAGE };
  const num = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]\n\n${USAGE}`);
    return n;
  };
  const int = (name: string, v: string | undefined, min: number, max: number) => {
    const n = num(name, v, min, max);
    return n === undefined ? undefined : Math.floor(n);
  };
  return defaultOptions({
    quick: values.quick ?? false,
    payouts: int('payouts', values.payouts, 10, 1_000_000),
    clients: int('clients', values.clients, 1, 2_000),
    callers: int('callers', values.callers, 2, 1_000),
    seed: int('seed', values.seed, 0, 2 ** 32 - 1),
    redisPersistence: values['ephemeral-redis'] ? 'none' : persistenceOf(values['redis-persistence']),
    redisRestarts: int('redis-restarts', values['redis-restarts'], 0, 20),
    gatewayKills: int('gateway-kills', values['gateway-kills'], 0, 20),
    redisPauses: int('redis-pauses', values['redis-pauses'], 0, 20),
    gatewayRestarts: int('gateway-restarts', values['gateway-restarts'], 0, 20),
    faultRulesPer100: num('fault-rate', values['fault-rate'], 0, 100),
    subscribeRate: num('subscribe-rate', values['subscribe-rate'], 0, 1),
    maxMinutes: num('max-minutes', values['max-minutes'], 1, 600),
    outDir: values.out,
    jsonPath: values.json,
    verbose: values.verbose ?? false,
  });
}

function persistenceOf(v: string | undefined): RedisPersistence | undefined {
  if (v === undefined) return undefined;
  if (v === 'always' || v === 'everysec' || v === 'none') return v;
  throw new Error(`--redis-persistence must be always, everysec or none\n\n${USAGE}`);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
