/** Command-line options of `npm run bench -- …`. */

export const SCENARIOS = ['execute', 'latency', 'webhooks', 'reads', 'fanout', 'fanout-rate', 'subscribers-10k', 'heap'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];
/** The scenarios that need the subscriber fleet and the ws baseline (and the heap one, the bare graphql-ws server). */
export const SUBSCRIPTION_SCENARIOS: readonly ScenarioId[] = ['fanout', 'fanout-rate', 'subscribers-10k', 'heap'];

export interface BenchOptions {
  quick: boolean;
  /** Exit non-zero when a target is missed (failures always exit non-zero). */
  enforce: boolean;
  scenarios: readonly ScenarioId[];
  /** Baseline/candidate pairs, alternating: 2 = ABAB. */
  rounds: number;
  warmupS: number;
  durationS: number;
  /** Closed-loop connections (execute throughput, webhooks). */
  connections: number;
  /** Offered rate of the latency scenario. */
  ratePerS: number;
  /** How many times the reads scenario names one payout. */
  k: number;
  /** Subscribers of fanout, fanout-rate and heap (`--subscribers`); undefined: each scenario's own size. */
  subscribers: number | undefined;
  /** Write a V8 CPU profile of the gateway process to this directory (`--profile[=dir]`). */
  profileDir: string | undefined;
  argv: readonly string[];
}

export const USAGE = `npm run bench -- [--quick] [--enforce] [--only=${SCENARIOS.join(',')}]
                      [--rounds=N] [--warmup=S] [--duration=S] [--connections=N] [--rate=R] [--subscribers=N]
                      [--profile[=DIR]]
  --quick        every scenario very briefly (CI smoke run, no thresholds)
  --enforce      exit non-zero when a target is missed, not only on failed requests
  --subscribers  WebSocket subscribers of fanout, fanout-rate and heap (default 5,000; 300 with --quick)
  --profile      write a CPU profile of the gateway process (default DIR bench/results/profiles), and of
                 the fan-out windows of the subscription scenarios`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string | true>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`Unknown argument ${arg}\n${USAGE}`);
    flags.set(m[1] as string, m[2] ?? true);
  }
  const known = new Set(['quick', 'enforce', 'only', 'rounds', 'warmup', 'duration', 'connections', 'rate', 'subscribers', 'profile', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`Unknown option --${name}\n${USAGE}`);
  const quick = flags.has('quick');
  const num = (name: string, def: number, min: number): number => {
    const v = flags.get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (v === true || !Number.isFinite(n) || n < min) throw new Error(`--${name} needs a number ≥ ${min}`);
    return n;
  };
  const only = flags.get('only');
  const scenarios =
    typeof only === 'string'
      ? only.split(',').map((s) => {
          if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${s} (${SCENARIOS.join(', ')})`);
          return s as ScenarioId;
        })
      : SCENARIOS;
  return {
    quick,
    enforce: flags.has('enforce'),
    scenarios,
    rounds: Math.round(num('rounds', 2, 1)),
    warmupS: num('warmup', quick ? 0.5 : 3, 0),
    durationS: num('duration', quick ? 1 : 10, 0.5),
    connections: Math.round(num('connections', 50, 1)),
    ratePerS: num('rate', 2_000, 1),
    k: 10,
    subscribers: flags.has('subscribers') ? Math.round(num('subscribers', 1, 1)) : undefined,
    profileDir: flags.has('profile') ? (typeof flags.get('profile') === 'string' ? String(flags.get('profile')) : 'bench/results/profiles') : undefined,
    argv,
  };
}

export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help');
