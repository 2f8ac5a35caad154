/**
 * `npm run bench [-- --quick] [-- --enforce]`: starts redis-server, the stub upstream, the bare baseline
 * and the gateway (each its own process, the gateway with the production configuration we deploy), for
 * the execute scenario the two floors (floors.ts), and for the subscription scenarios the raw ws baseline, the subscriber fleet and the bare graphql-ws server;
 * runs the scenarios with ABAB rounds against loopback, prints the table with the command, versions and
 * core count, writes bench/results/latest.json, and stops every child it started.
 *
 * Exit status: 1 when any request failed (non-2xx, error, GraphQL error, wrong answer) or a setup step
 * failed; with --enforce also when a target is missed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { mintToken } from '../src/auth/tokens.js';
import { SCOPES } from '../src/auth/viewer.js';
import { loadConfig } from '../src/config.js';
import type { BenchContext, Problem, Secrets } from './lib/context.js';
import { describeEnvironment, renderEnvironment } from './lib/environment.js';
import { parseOptions, SUBSCRIPTION_SCENARIOS, USAGE, wantsHelp, type ScenarioId } from './lib/options.js';
import { preflight } from './lib/preflight.js';
import { benchCpuSeconds, buildChildren, machineCpuSeconds, spawnTsChild, startRedis, stopAll, type ChildHandle } from './lib/processes.js';
import { renderNotes, renderProblems, renderTable, writeResults, type ScenarioRow } from './lib/report.js';
import { FLOOR_SCENARIOS, FLOORS, type Floor } from './lib/floor-kinds.js';
import { executeLatency } from './scenarios/execute-latency.js';
import { executeThroughput } from './scenarios/execute-throughput.js';
import { fanoutRate } from './scenarios/fanout-rate.js';
import { fanout } from './scenarios/fanout.js';
import { heap } from './scenarios/heap.js';
import { upstreamReads } from './scenarios/reads.js';
import { subscribers10k } from './scenarios/subscribers-10k.js';
import { webhooks } from './scenarios/webhooks.js';

/** A scenario's row, or its row followed by reference rows (the execute floors). */
const SCENARIO_RUNNERS: Record<ScenarioId, (ctx: BenchContext) => Promise<ScenarioRow | ScenarioRow[]>> = {
  execute: executeThroughput,
  latency: executeLatency,
  webhooks,
  reads: upstreamReads,
  fanout,
  'fanout-rate': fanoutRate,
  'subscribers-10k': subscribers10k,
  heap,
};
const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Set on SIGINT/SIGTERM: no further scenario starts while the children are being stopped. */
let stopping = false;

/** The heap flags `npm start` runs the gateway with (package.json), so the bench measures what we deploy. */
function startHeapFlags(): string[] {
  const pkg = JSON.parse(readFileSync(here('../package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((t) => /^--max-[a-z-]+-size=\d+$/.test(t));
}

/** Only what a child needs from our environment; never the caller's REDIS_URL, ZOPAY_* or NODE_OPTIONS. */
function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

/** baseEnv in production mode: the gateway's, and that of every server it is compared with. */
function deployedEnv(): NodeJS.ProcessEnv {
  return { ...baseEnv(), NODE_ENV: 'production' };
}

function gatewayEnv(secrets: Secrets, stubUrl: string, redisUrl: string, redisPrefix: string): NodeJS.ProcessEnv {
  return {
    ...deployedEnv(),
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    ZOPAY_BASE_URL: stubUrl,
    ZOPAY_API_KEY: secrets.apiKey,
    ZOPAY_API_SECRET: secrets.apiSecret,
    ZOPAY_ORIGIN: secrets.origin,
    ZOPAY_WEBHOOK_SECRET: secrets.webhookSecret,
    // Rate limits at their configurable ceilings; the limiters still run on every request. ZoPay's budget:
    // 1,667/s sustained after a burst of 100,000 (the stub has no limit). Per caller: the bench's single
    // token stands for many clients, so 16,667 mutations/s after a burst of 1,000,000.
    ZOPAY_RATE_LIMIT_PER_MINUTE: '100000',
    MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
    AUTH_JWT_SECRET: secrets.jwtSecret,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
  };
}

/** The gateway's environment as printed and stored: secrets masked, the bench's plumbing left out. */
function describeGatewayEnv(env: NodeJS.ProcessEnv): string {
  const base = baseEnv();
  return Object.entries(env)
    .filter(([k]) => !(k in base))
    .map(([k, v]) => (/_SECRET$|_API_KEY$/.test(k) ? `${k}=<random>` : `${k}=${v}`))
    .join(' ');
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const heapFlags = startHeapFlags();
  const started = performance.now();
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const log = (line: string) => console.log(line);
  const secrets: Secrets = {
    apiKey: `zo_bench_${hex(8)}`,
    apiSecret: hex(32),
    origin: 'https://gateway.bench.example',
    webhookSecret: `whsec_${hex(32)}`,
    jwtSecret: hex(32),
  };
  const runTag = `b${Date.now().toString(36)}${hex(2)}`;
  const sub = 'bench-client';
  const redisPrefix = 'zopay:';
  const problems: Problem[] = [];
  const rows: ScenarioRow[] = [];

  const plan = `${options.rounds} ABAB round(s) of ${options.warmupS} s warm-up + ${options.durationS} s`;
  log(`zopay-gateway bench (${options.quick ? 'quick' : 'full'}): ${options.scenarios.join(', ')}; ${plan}`);
  log('compiling the gateway, the sandbox and the bench (tsc, bench/tsconfig.build.json)');
  buildChildren();
  const redis = await startRedis();
  const stub = await spawnTsChild('stub', here('./stub-upstream.ts'), {
    ...baseEnv(),
    STUB_API_KEY: secrets.apiKey,
    STUB_API_SECRET: secrets.apiSecret,
    STUB_ORIGIN: secrets.origin,
  });
  const [baseline, gateway] = await Promise.all([
    // What the gateway is compared with runs as the gateway does: NODE_ENV=production, npm start's heap flags.
    spawnTsChild(
      'baseline',
      here('./baseline.ts'),
      {
        ...deployedEnv(),
        BASELINE_UPSTREAM_URL: stub.url,
        BASELINE_SUB: sub,
        ZOPAY_API_KEY: secrets.apiKey,
        ZOPAY_API_SECRET: secrets.apiSecret,
        ZOPAY_ORIGIN: secrets.origin,
        ZOPAY_WEBHOOK_SECRET: secrets.webhookSecret,
      },
      { nodeArgs: heapFlags },
    ),
    // The gateway as `npm start` runs it: compiled by `npm run build` (tsc), started by plain node.
    spawnTsChild('gateway', here('./gateway-child.ts'), gatewayEnv(secrets, stub.url, redis.url, redisPrefix), {
      // --expose-gc only makes global.gc() callable (the heap scenario asks for it over IPC); the
      // collector itself runs as without the flag.
      nodeArgs: ['--expose-gc', ...heapFlags, ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [])],
    }),
  ]);
  log(`started: redis ${redis.url}, stub ${stub.url}, baseline ${baseline.url}, gateway ${gateway.url}`);
  // With --profile, whole-process profiles of these too, each in a subdirectory named after it.
  const profileArgs = (name: string) => (options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}/${name}`] : []);
  // The execute scenario's references: a GraphQL layer doing the baseline's work and nothing else.
  const floorEnv = (floor: Floor) => ({
    ...deployedEnv(),
    FLOOR: floor,
    BASELINE_UPSTREAM_URL: stub.url,
    BASELINE_SUB: sub,
    ZOPAY_API_KEY: secrets.apiKey,
    ZOPAY_API_SECRET: secrets.apiSecret,
    ZOPAY_ORIGIN: secrets.origin,
  });
  const floors: Record<Floor, ChildHandle> | undefined = options.scenarios.some((id) => FLOOR_SCENARIOS.includes(id))
    ? await Promise.all(FLOORS.map((f) => spawnTsChild(`${f}-floor`, here('./floors.ts'), floorEnv(f), { nodeArgs: [...heapFlags, ...profileArgs(`${f}-floor`)] }))).then((handles) =>
        Object.fromEntries(FLOORS.map((f, i) => [f, handles[i] as ChildHandle])) as Record<Floor, ChildHandle>,
      )
    : undefined;
  if (floors) log(`started: floors ${FLOORS.map((f) => `${f} ${floors[f].url}`).join(', ')}`);
  // The subscription scenarios' processes: the WebSocket clients (and the webhook sender) in a process of
  // their own, the raw ws broadcast baseline, and the bare graphql-ws server of the heap scenario.
  const subscriptionsWanted = options.scenarios.some((id) => SUBSCRIPTION_SCENARIOS.includes(id));
  const [wsBaseline, subscribers, bareGraphqlWs] = subscriptionsWanted
    ? await Promise.all([
        spawnTsChild('ws-baseline', here('./ws-baseline.ts'), { ...deployedEnv(), ZOPAY_WEBHOOK_SECRET: secrets.webhookSecret }, { nodeArgs: [...heapFlags, ...profileArgs('ws-baseline')] }),
        spawnTsChild(
          'subscribers',
          here('./subscribers.ts'),
          { ...baseEnv(), FLEET_JWT_SECRET: secrets.jwtSecret, FLEET_WEBHOOK_SECRET: secrets.webhookSecret },
          { nodeArgs: profileArgs('subscribers') },
        ),
        options.scenarios.includes('heap') ? spawnTsChild('graphql-ws-bare', here('./graphql-ws-bare.ts'), baseEnv(), { nodeArgs: ['--expose-gc'] }) : undefined,
      ])
    : [];
  if (wsBaseline && subscribers) {
    log(`started: ws baseline ${wsBaseline.url}, subscriber fleet ${subscribers.url}${bareGraphqlWs ? `, bare graphql-ws ${bareGraphqlWs.url}` : ''}`);
  }
  const gatewayEnvText = describeGatewayEnv(gatewayEnv(secrets, stub.url, redis.url, redisPrefix));
  log(`gateway environment: ${gatewayEnvText}`);
  // The heap scenario's bare graphql-ws keeps node's defaults: it is compared on heap in use after a full
  // GC, not on speed, and its committed figures were measured that way.
  log(`node flags of the gateway (as npm start), the baseline, the floors and the ws baseline: ${heapFlags.join(' ') || 'none'}`);

  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  redisClient.on('error', () => undefined);
  const token = await mintToken(secrets.jwtSecret, { sub, scope: `${SCOPES.WRITE} ${SCOPES.READ}`, expiresInSeconds: 24 * 3_600 });
  const ctx: BenchContext = {
    options,
    runTag,
    secrets,
    sub,
    token,
    redisPrefix,
    stub,
    baseline,
    gateway,
    ...(floors ? { floors } : {}),
    ...(wsBaseline ? { wsBaseline } : {}),
    ...(subscribers ? { subscribers } : {}),
    ...(bareGraphqlWs ? { bareGraphqlWs } : {}),
    gatewayConfig: loadConfig(gatewayEnv(secrets, stub.url, redis.url, redisPrefix)),
    redis,
    redisClient,
    problems,
    log,
  };
  try {
    await preflight(ctx);
    for (const id of options.scenarios) {
      if (stopping) break;
      log(`scenario ${id}`);
      const machine0 = machineCpuSeconds();
      const bench0 = benchCpuSeconds();
      const t0 = performance.now();
      try {
        const produced = await SCENARIO_RUNNERS[id](ctx);
        const [row, ...references] = Array.isArray(produced) ? produced : [produced];
        if (!row) throw new Error(`scenario ${id} produced no row`);
        // Other work on the machine moves every figure: say how much there was during this scenario.
        const machine1 = machineCpuSeconds();
        if (machine0 !== undefined && machine1 !== undefined) {
          const foreign = Math.max(0, machine1 - machine0 - (benchCpuSeconds() - bench0));
          const share = foreign / (((performance.now() - t0) / 1000) * os.cpus().length);
          row.values['foreignCpuShare'] = share;
          log(`  ${id}: processes outside the bench used ${foreign.toFixed(1)} CPU-s (${(share * 100).toFixed(1)} % of the machine)`);
          // Both a share and an amount: a scenario of a fraction of a second is all 10 ms clock ticks.
          if (share >= 0.05 && foreign >= 0.5) row.notes.push(`other processes used ${(share * 100).toFixed(0)} % of the machine's CPU during this scenario: figures disturbed`);
        }
        rows.push(row, ...references);
      } catch (err) {
        problems.push({ scenario: id, side: 'setup', message: err instanceof Error ? err.message : String(err) });
        log(`  ${id} aborted: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } catch (err) {
    if (!problems.some((p) => p.scenario === 'preflight')) problems.push({ scenario: 'setup', side: 'setup', message: String(err) });
  } finally {
    redisClient.disconnect();
  }

  const environment = describeEnvironment(argv, redis.version, loadAtStart);
  const seconds = (performance.now() - started) / 1000;
  log('');
  log(renderTable(rows));
  const notes = renderNotes(rows);
  if (notes) log(`\n${notes}`);
  log(`\n${renderEnvironment(environment)}`);
  log(`duration: ${seconds.toFixed(1)} s`);
  writeResults(RESULTS_FILE, {
    mode: options.quick ? 'quick' : 'full',
    environment,
    gatewayEnvironment: gatewayEnvText,
    rows,
    problems,
    options: { ...options, durationOfRunS: seconds },
  });
  log(`results:  ${RESULTS_FILE}`);

  const missed = rows.filter((r) => !r.pass && !r.reference);
  if (problems.length > 0) {
    log(`\nFAILED: ${problems.length} problem(s):\n${renderProblems(problems)}`);
    return 1;
  }
  if (missed.length > 0) {
    log(`\n${missed.length} target(s) missed: ${missed.map((r) => r.id).join(', ')}${options.enforce ? ' (--enforce)' : ' (reported, not enforced)'}`);
    if (options.enforce) return 1;
  }
  return 0;
}

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(USAGE);
} else {
  const interrupt = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the bench's child processes`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let code = 1;
  try {
    code = await main(argv);
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  } finally {
    await stopAll();
  }
  process.exit(code);
}
