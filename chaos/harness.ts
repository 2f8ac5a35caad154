/**
 * runChaos(): one Redis, the sandbox, a webhook load balancer and two gateway instances as child
 * processes; many simulated clients driving payouts through them while faults are injected; then the
 * invariant checks against the sandbox's ledger. `chaos/run.ts` is the command line around it.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken } from '../src/auth/tokens.js';
import { upstreamIdempotencyKey } from '../src/services/execute.js';
import type { SandboxPayout } from '../sandbox/ledger-types.js';
import type { DeliveryRecord } from '../sandbox/webhook-types.js';
import { readPayout, runClient, type ClientContext } from './client.js';
import { FaultDriver, UPSTREAM_FAULT_KINDS, type FaultLog } from './faults.js';
import { GraphQLHttp } from './gql.js';
import { checkInvariants, type InvariantResult } from './invariants.js';
import { Counter, callerSub, planPayouts, type KeyRecord, type PayoutPlan, type RunRecords } from './model.js';
import { defaultOptions, type ChaosOptions } from './options.js';
import { createService, freePort, killAllChildren, type ServiceProcess } from './processes.js';
import { startWebhookProxy, type ProxyStats, type WebhookProxy } from './proxy.js';
import { createRng } from './rng.js';
import { startChaosRedis, type ChaosRedis } from './redis.js';
import { HealthMonitor, readReadyz, type InstanceHealth } from './monitor.js';

const JWT_SECRET = 'chaos-harness-secret-that-is-at-least-32-characters';
const WATCHER_SUB = 'chaos-backoffice';
const MAGIC_EXECUTE_FAULTS: Record<string, string> = {
  '10': 'http500',
  '11': 'http503',
  '12': 'rate429',
  '13': 'commitThenHang',
  '14': 'commitThenReset',
  '15': 'resetBeforeCommit',
  '16': 'slow',
};

export interface FaultRow {
  category: 'upstream' | 'webhook' | 'infrastructure' | 'client';
  kind: string;
  /** Rule uses armed / events scheduled. */
  injected: number;
  /** How many actually happened (rule uses consumed, copies sent, events run). */
  fired: number;
  note?: string;
}

export interface ChaosReport {
  options: ChaosOptions;
  command: string;
  startedAt: string;
  durationMs: number;
  phases: { name: string; ms: number }[];
  outDir: string;
  payouts: {
    planned: number;
    started: number;
    answeredWithPayout: number;
    refused: number;
    unresolved: number;
    noQuote: number;
    sharedKeyPairs: number;
    ledgerPayouts: number;
    ledgerSuccess: number;
    ledgerFailed: number;
    ledgerNonFinal: number;
    settledNeverFinishing: number;
    settledStragglers: number;
  };
  faults: FaultRow[];
  retries: [string, number][];
  actions: [string, number][];
  subscriptions: { subscribers: number; ws: number; sse: number; watchers: number; attempts: number; gotFinal: number; cutoff: number };
  webhooks: {
    deliveries: number;
    attempts: number;
    non2xxAttempts: number;
    deadLettered: number;
    proxy: ProxyStats;
  };
  health: InstanceHealth[];
  gatewayLog: { level: string; msg: string; count: number }[];
  invariants: InvariantResult[];
  harnessErrors: string[];
  /** Things worth knowing that are neither violations nor harness failures. */
  notes: string[];
  violations: number;
  ok: boolean;
}

export type Logger = (line: string) => void;

export async function runChaos(partial: Partial<ChaosOptions> = {}, log: Logger = () => undefined): Promise<ChaosReport> {
  const options = defaultOptions(partial);
  const started = Date.now();
  const phases: { name: string; ms: number }[] = [];
  let phaseStart = started;
  const phase = (name: string) => {
    const now = Date.now();
    phases.push({ name, ms: now - phaseStart });
    phaseStart = now;
    log(`phase done: ${name} (${((now - started) / 1000).toFixed(1)} s)`);
  };
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), 'zopay-chaos-'));
  mkdirSync(outDir, { recursive: true });
  const rng = createRng(options.seed);
  const records: RunRecords = {
    keys: [],
    subscribers: [],
    reads: [],
    retries: new Counter(),
    actions: new Counter(),
    harnessErrors: [],
    masked: [],
  };
  const http = new GraphQLHttp();
  const hardStop = new AbortController();
  const hardTimer = setTimeout(() => {
    records.harnessErrors.push(`run exceeded --max-minutes ${options.maxMinutes}; load stopped`);
    hardStop.abort();
  }, options.maxMinutes * 60_000);
  hardTimer.unref();

  let redis: ChaosRedis | undefined;
  let proxy: WebhookProxy | undefined;
  let sandbox: ServiceProcess | undefined;
  const gateways: ServiceProcess[] = [];
  let monitor: HealthMonitor | undefined;
  const onSignal = () => {
    killAllChildren();
    void redis?.kill();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- set-up -----------------------------------------------------------------------------------
    redis = await startChaosRedis(options.redisPersistence);
    const [sandboxPort, portA, portB] = await Promise.all([freePort(), freePort(), freePort()]);
    const instances = [
      { name: 'gw-a', url: `http://127.0.0.1:${portA}` },
      { name: 'gw-b', url: `http://127.0.0.1:${portB}` },
    ];
    proxy = await startWebhookProxy(instances);
    const timeScale = options.timeScale;
    sandbox = createService({
      name: 'sandbox',
      script: 'sandbox/main.ts',
      port: sandboxPort as number,
      logFile: join(outDir, 'sandbox.log'),
      readyPath: '/__sandbox/health',
      env: {
        SANDBOX_PORT: String(sandboxPort),
        SANDBOX_HOST: '127.0.0.1',
        SANDBOX_WEBHOOK_URL: proxy.url,
        SANDBOX_TIME_SCALE: String(timeScale),
        SANDBOX_RATE_LIMIT: '1000000',
        SANDBOX_PROCESSING_DELAY_MS: String(Math.min(3_600_000, Math.round(options.processingMs * timeScale))),
        SANDBOX_STARTING_BALANCE: '900000000000000',
      },
    });
    const gatewayEnv = (port: number): Record<string, string> => ({
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env['CHAOS_GATEWAY_LOG_LEVEL'] ?? 'warn',
      ZOPAY_BASE_URL: sandbox?.url ?? '',
      REDIS_URL: redis?.url ?? '',
      AUTH_JWT_SECRET: JWT_SECRET,
      ZOPAY_RATE_LIMIT_PER_MINUTE: '100000',
      RECONCILE_INTERVAL_MS: '1000',
      ZOPAY_CONNECT_TIMEOUT_MS: '1000',
      ZOPAY_REQUEST_TIMEOUT_MS: '2000',
      ZOPAY_OPERATION_DEADLINE_MS: '6000',
      // The harness's simulated callers are few and busy: per-caller quotas would only slow the run down.
      MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
      SUBSCRIPTIONS_PER_CALLER: '100000',
    });
    for (const [i, inst] of instances.entries()) {
      const port = i === 0 ? (portA as number) : (portB as number);
      gateways.push(
        createService({
          name: inst.name,
          script: 'src/main.ts',
          port,
          logFile: join(outDir, `${inst.name}.log`),
          readyPath: '/readyz',
          env: gatewayEnv(port),
          // A gateway that dies on its own is restarted, as an orchestrator would; the exit is reported.
          restartOnUnexpectedExit: true,
          onUnexpectedExit: (name, code, signal) => log(`WARNING: ${name} exited on its own (code ${code}, signal ${signal}); restarting it`),
        }),
      );
    }
    await Promise.all([sandbox.start(), ...gateways.map((g) => g.start())]);
    monitor = new HealthMonitor(instances);
    monitor.start();
    phase('start-up');

    const ttl = options.maxMinutes * 60 + 3_600;
    const tokens = new Map<string, string>();
    for (let i = 0; i < options.callers; i++) {
      const sub = callerSub(i);
      tokens.set(sub, await mintToken(JWT_SECRET, { sub, scope: 'payouts:write', expiresInSeconds: ttl }));
    }
    const watcherToken = await mintToken(JWT_SECRET, { sub: WATCHER_SUB, scope: 'payouts:read', expiresInSeconds: ttl });
    const runTag = `s${options.seed}-${started.toString(36)}`;
    const plans = planPayouts({ ...options, runTag }, rng.fork('plan'));

    // ---- load with faults -------------------------------------------------------------------------
    const faults = new FaultDriver({
      sandboxUrl: sandbox.url,
      redis,
      gateways,
      rng: rng.fork('faults'),
      payouts: options.payouts,
      rulesPer100: options.faultRulesPer100,
      webhookPhases: options.webhookPhases,
      redisRestarts: options.redisRestarts,
      redisPauses: options.redisPauses,
      gatewayKills: options.gatewayKills,
      gatewayRestarts: options.gatewayRestarts,
      upstreamIdle: () => monitor?.upstreamIdle() ?? false,
      log,
    });
    setMaxListeners(0, hardStop.signal);
    const subsCutoff = new AbortController();
    // One abort listener per open subscription stream.
    setMaxListeners(0, subsCutoff.signal);
    const subscriberTasks = new Set<Promise<void>>();
    let startedCount = 0;
    const ctx: ClientContext = {
      http,
      instances,
      tokenOf: (sub) => (sub === WATCHER_SUB ? watcherToken : (tokens.get(sub) as string)),
      watcherToken,
      foreignSubOf: (sub) => {
        const i = Number(sub.slice(sub.lastIndexOf('-') + 1));
        return callerSub((i + 1) % options.callers);
      },
      records,
      subscriberContext: { instances, cutoff: subsCutoff.signal, retries: records.retries, masked: records.masked },
      subscriberTasks,
      onStart: () => {
        startedCount++;
        faults.onStarted();
      },
      stop: hardStop.signal,
    };
    const byClient = new Map<number, PayoutPlan[]>();
    for (const p of plans) byClient.set(p.client, [...(byClient.get(p.client) ?? []), p]);
    const progress = setInterval(() => {
      const done = records.keys.filter((k) => k?.finishedAt !== undefined).length;
      log(`progress: ${startedCount}/${options.payouts} started, ${done} done, ${subscriberTasks.size} subscribers open, ${records.retries.total()} retries`);
    }, 5_000);
    try {
      await Promise.all([...byClient.entries()].map(([c, list]) => runClient(ctx, list, rng.fork(`client-${c}`))));
    } finally {
      clearInterval(progress);
    }
    await faults.finish();
    phase('load');

    // ---- let every payout finish at ZoPay ---------------------------------------------------------
    let settledNeverFinishing = 0;
    let settledStragglers = 0;
    const settleRng = rng.fork('settle');
    let ledger = await getLedger(sandbox.url);
    for (const p of ledger.filter((x) => !isFinal(x.status) && x.recipient.msisdn.endsWith('05'))) {
      if (await settle(sandbox.url, p.id, settleRng.chance(0.5) ? 'SUCCESS' : 'FAILED')) settledNeverFinishing++;
    }
    const finalDeadline = Date.now() + 45_000;
    for (;;) {
      ledger = await getLedger(sandbox.url);
      if (ledger.every((p) => isFinal(p.status)) || Date.now() > finalDeadline) break;
      await sleep(1_000);
    }
    for (const p of ledger.filter((x) => !isFinal(x.status))) {
      if (await settle(sandbox.url, p.id, 'SUCCESS')) settledStragglers++;
    }
    phase('settle');

    // ---- subscribers: final or cut-off ------------------------------------------------------------
    const graceMs = options.quick ? 20_000 : 45_000;
    const subsDeadline = Date.now() + graceMs;
    while (subscriberTasks.size > 0 && Date.now() < subsDeadline) await sleep(250);
    subsCutoff.abort();
    await Promise.allSettled([...subscriberTasks]);
    phase('subscribers');

    // ---- ZoPay reachable from every instance again ----------------------------------------------
    // "Once everything is over" includes each instance's circuit breaker. One opened by the last faults
    // stays open for ZOPAY_BREAKER_COOLDOWN_MS, and meanwhile a read serves the status the instance
    // holds without asking ZoPay, as designed: a final read then would judge the breaker, not the
    // gateway's records. Each instance gets its probe (a one-item list read) once its circuit is
    // half-open, and the final reads start when every circuit is closed and no 429 holds calls back.
    const circuitsDeadline = Date.now() + 45_000;
    for (;;) {
      const states = await Promise.all(instances.map(async (g) => ({ url: g.url, upstream: (await readReadyz(g.url, 2_000))?.upstream })));
      const waiting = states.filter(({ upstream }) => upstream?.circuit !== 'closed' || (typeof upstream.pausedForMs === 'number' && upstream.pausedForMs > 0));
      if (waiting.length === 0 || Date.now() > circuitsDeadline) break;
      await Promise.all(
        waiting
          .filter(({ upstream }) => upstream?.circuit === 'half-open')
          .map(({ url }) => http.post(url, 'query Probe { payouts(first: 1) { totalCount } }', {}, watcherToken, 10_000)),
      );
      await sleep(500);
    }
    phase('circuits closed');

    // ---- final reads: what an owner sees once everything is over ----------------------------------
    const readRng = rng.fork('final-reads');
    const withPayout = records.keys.filter((k): k is KeyRecord => k !== undefined && k.observations.some((o) => o.kind === 'payout'));
    const sample = withPayout.length <= 2_500 ? withPayout : readRng.shuffle(withPayout).slice(0, 2_500);
    let cursor = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (cursor < sample.length) {
          const rec = sample[cursor++] as KeyRecord;
          const o = rec.observations.find((x) => x.kind === 'payout');
          if (o?.kind === 'payout') await readPayout(ctx, rec, o.id, rec.plan.sub, false, 'final', readRng);
        }
      }),
    );
    phase('final reads');

    // ---- evidence ---------------------------------------------------------------------------------
    ledger = await getLedger(sandbox.url);
    const deliveries = await getDeliveries(sandbox.url);
    monitor?.stop();
    const crashes: string[] = [];
    const notes: string[] = [];
    for (const g of gateways) {
      for (const e of g.unexpectedExits) {
        const when = new Date(e.at).toISOString();
        if (e.graceful) {
          // main.ts exits 0 only after a clean shutdown on SIGTERM/SIGINT: another process signalled it.
          notes.push(`${g.name} was shut down cleanly by a SIGTERM/SIGINT the harness did not send, at ${when} (another process on this machine?); restarted: ${e.restarted}`);
        } else {
          crashes.push(`${g.name} exited on its own (code ${e.code}, signal ${e.signal}) at ${when}; log: ${g.logFile}`);
        }
      }
    }
    const rel = (t: number) => `+${((t - started) / 1000).toFixed(0)} s`;
    const disruptionsText = faults.log.disruptions.map((d) => `${d.kind} ${d.target} ${rel(d.at)}`).join(', ');
    for (const h of monitor?.health ?? []) {
      if (h.breakerOpenings > 0) {
        const periods = h.breakerPeriods.map((p) => `${rel(p.from)}–${p.to === undefined ? 'end' : rel(p.to)}`).join(', ');
        notes.push(`${h.name}: ZoPay circuit breaker opened ${h.breakerOpenings} time(s), open ~${h.breakerOpenS.toFixed(0)} s in total (${periods}); every upstream call failed fast meanwhile`);
      }
    }
    if (disruptionsText) notes.push(`disruptions: ${disruptionsText}`);
    for (const e of sandbox.unexpectedExits) records.harnessErrors.push(`sandbox exited on its own (code ${e.code}, signal ${e.signal})`);
    const redisOutages = faults.log.disruptions
      .filter((d) => d.kind !== 'gateway-kill')
      .map((d) => [d.at, d.at + Math.max(d.recoveredAfterMs, d.downMs) + 3_000] as const);
    const invariants = checkInvariants({ records, ledger, upstreamKeyOf: upstreamIdempotencyKey, crashes, redisOutages });
    const violations = invariants.reduce((n, r) => n + (r.advisory ? 0 : r.violations), 0);

    const keys = records.keys.filter((k): k is KeyRecord => k !== undefined);
    const report: ChaosReport = {
      options,
      command: commandLine(options),
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      phases,
      outDir,
      payouts: {
        planned: options.payouts,
        started: keys.length,
        answeredWithPayout: keys.filter((k) => k.outcome === 'payout').length,
        refused: keys.filter((k) => k.outcome === 'rejected').length,
        unresolved: keys.filter((k) => k.outcome === 'unresolved').length,
        noQuote: keys.filter((k) => k.outcome === 'no-quote').length,
        sharedKeyPairs: plans.filter((p) => p.sharedKey).length / 2,
        ledgerPayouts: ledger.length,
        ledgerSuccess: ledger.filter((p) => p.status === 'SUCCESS').length,
        ledgerFailed: ledger.filter((p) => p.status === 'FAILED').length,
        ledgerNonFinal: ledger.filter((p) => !isFinal(p.status)).length,
        settledNeverFinishing,
        settledStragglers,
      },
      faults: faultRows(faults.log, keys, ledger, deliveries, records, upstreamIdempotencyKey),
      retries: records.retries.entries(),
      actions: records.actions.entries(),
      subscriptions: {
        subscribers: records.subscribers.length,
        ws: records.subscribers.filter((s) => s.plan.transport === 'ws').length,
        sse: records.subscribers.filter((s) => s.plan.transport === 'sse').length,
        watchers: records.subscribers.filter((s) => s.asWatcher).length,
        attempts: records.subscribers.reduce((n, s) => n + s.attempts.length, 0),
        gotFinal: records.subscribers.filter((s) => s.done === 'final').length,
        cutoff: records.subscribers.filter((s) => s.done !== 'final').length,
      },
      webhooks: {
        deliveries: deliveries.length,
        attempts: deliveries.reduce((n, d) => n + d.attempts.length, 0),
        non2xxAttempts: deliveries.reduce((n, d) => n + d.attempts.filter((a) => a.statusCode === null || a.statusCode < 200 || a.statusCode > 299).length, 0),
        deadLettered: deliveries.filter((d) => d.status === 'FAILED').length,
        proxy: proxy.stats,
      },
      health: monitor?.health ?? [],
      gatewayLog: scanLogs(gateways.map((g) => g.logFile)),
      invariants,
      harnessErrors: [...records.harnessErrors, ...faults.log.errors.map((e) => `fault injection: ${e}`)],
      violations,
      notes,
      ok: false,
    };
    report.ok = violations === 0 && report.harnessErrors.length === 0;
    writeFileSync(join(outDir, 'report.json'), JSON.stringify(report, null, 2));
    if (options.jsonPath) writeFileSync(options.jsonPath, JSON.stringify(report, null, 2));
    writeFileSync(join(outDir, 'records.json'), JSON.stringify(serialisableRecords(records)));
    return report;
  } finally {
    monitor?.stop();
    clearTimeout(hardTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await sandbox?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    await http.close();
  }
}

function isFinal(s: string): boolean {
  return s === 'SUCCESS' || s === 'FAILED' || s === 'CANCELLED';
}

async function getLedger(sandboxUrl: string): Promise<SandboxPayout[]> {
  const res = await fetch(`${sandboxUrl}/__sandbox/ledger`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { payouts: SandboxPayout[] };
  return body.payouts;
}

async function getDeliveries(sandboxUrl: string): Promise<DeliveryRecord[]> {
  const res = await fetch(`${sandboxUrl}/__sandbox/webhooks`, { signal: AbortSignal.timeout(60_000) });
  const body = (await res.json()) as { deliveries: DeliveryRecord[] };
  return body.deliveries;
}

async function settle(sandboxUrl: string, payoutId: string, status: 'SUCCESS' | 'FAILED'): Promise<boolean> {
  const res = await fetch(`${sandboxUrl}/__sandbox/settle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payout_id: payoutId, status, ...(status === 'FAILED' ? { error: { code: 'DECLINED', message: 'Declined' } } : {}) }),
  });
  await res.arrayBuffer();
  return res.status === 200;
}

function faultRows(
  log: FaultLog,
  keys: readonly KeyRecord[],
  ledger: readonly SandboxPayout[],
  deliveries: readonly DeliveryRecord[],
  records: RunRecords,
  upstreamKeyOf: (sub: string, key: string) => string,
): FaultRow[] {
  const rows: FaultRow[] = [];
  const paidKeys = new Set(ledger.map((p) => p.idempotencyKey));
  const magicFired = new Map<string, number>();
  const magicArmed = new Map<string, number>();
  for (const k of keys) {
    const kind = MAGIC_EXECUTE_FAULTS[k.plan.suffix];
    if (!kind) continue;
    magicArmed.set(kind, (magicArmed.get(kind) ?? 0) + 1);
    if (paidKeys.has(upstreamKeyOf(k.plan.sub, k.plan.key))) magicFired.set(kind, (magicFired.get(kind) ?? 0) + 1);
  }
  for (const kind of UPSTREAM_FAULT_KINDS) {
    const injected = log.injected.get(kind) ?? 0;
    const fired = injected - (log.remaining.get(kind) ?? 0);
    rows.push({
      category: 'upstream',
      kind,
      injected: injected + (magicArmed.get(kind) ?? 0),
      fired: fired + (magicFired.get(kind) ?? 0),
      note: `rules ${fired}/${injected}, magic number ${magicFired.get(kind) ?? 0}`,
    });
  }
  if (log.skipped > 0) rows.push({ category: 'upstream', kind: 'rules skipped (ZoPay idle: 4 armed, or every instance with its breaker open or paused by a 429)', injected: log.skipped, fired: 0 });
  const phaseAt = (t: number) => log.webhookPhases.find((p) => t >= p.from && (p.to === undefined || t < p.to))?.faults ?? {};
  const delayed = deliveries.filter((d) => (phaseAt(d.createdAt).delayMs ?? 0) > 0).length;
  const duplicates = deliveries.reduce((n, d) => n + d.duplicatesSent, 0);
  const stale = deliveries.filter((d) => d.event === 'payout.processing').length;
  const dropped = deliveries.reduce((n, d) => n + d.attempts.filter((a) => a.error === 'dropped').length, 0);
  const phases = (pred: (f: FaultLog['webhookPhases'][number]['faults']) => boolean) => log.webhookPhases.filter((p) => pred(p.faults)).length;
  rows.push({ category: 'webhook', kind: 'duplicate deliveries', injected: phases((f) => (f.duplicateCount ?? 0) > 0), fired: duplicates, note: 'phases / extra copies sent' });
  rows.push({ category: 'webhook', kind: 'delayed deliveries', injected: phases((f) => (f.delayMs ?? 0) > 0), fired: delayed, note: 'phases / deliveries delayed' });
  rows.push({ category: 'webhook', kind: 'out-of-order (stale PROCESSING)', injected: phases((f) => f.outOfOrder === true), fired: stale, note: 'phases / stale events sent' });
  rows.push({ category: 'webhook', kind: 'dropped attempts', injected: phases((f) => (f.dropRate ?? 0) > 0), fired: dropped, note: 'phases / attempts lost' });
  const redisEvents = log.disruptions.filter((d) => d.kind === 'redis-restart');
  const pauseEvents = log.disruptions.filter((d) => d.kind === 'redis-pause');
  const gwEvents = log.disruptions.filter((d) => d.kind === 'gateway-kill');
  const deployEvents = log.disruptions.filter((d) => d.kind === 'gateway-restart');
  rows.push({
    category: 'infrastructure',
    kind: 'gateway graceful restart (SIGTERM)',
    injected: deployEvents.length,
    fired: deployEvents.filter((d) => d.error === undefined).length,
    note: deployEvents.map((d) => `${d.target} ${(d.recoveredAfterMs / 1000).toFixed(1)} s`).join(', '),
  });
  rows.push({
    category: 'infrastructure',
    kind: 'redis hung (SIGSTOP/SIGCONT)',
    injected: pauseEvents.length,
    fired: pauseEvents.filter((d) => d.error === undefined).length,
    note: pauseEvents.map((d) => `${(d.downMs / 1000).toFixed(1)} s`).join(', '),
  });
  rows.push({
    category: 'infrastructure',
    kind: 'redis kill -9 + restart',
    injected: redisEvents.length,
    fired: redisEvents.filter((d) => d.error === undefined).length,
    note: redisEvents.map((d) => `${(d.recoveredAfterMs / 1000).toFixed(1)} s`).join(', '),
  });
  rows.push({
    category: 'infrastructure',
    kind: 'gateway kill -9 + restart',
    injected: gwEvents.length,
    fired: gwEvents.filter((d) => d.error === undefined).length,
    note: gwEvents.map((d) => `${d.target} ${(d.recoveredAfterMs / 1000).toFixed(1)} s`).join(', '),
  });
  for (const [name, count] of records.actions.entries()) rows.push({ category: 'client', kind: name, injected: count, fired: count });
  return rows;
}

function scanLogs(files: readonly string[]): { level: string; msg: string; count: number }[] {
  const counts = new Map<string, { level: string; msg: string; count: number }>();
  const levels: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let level = 'stderr';
      let msg = line.slice(0, 160);
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        const lv = typeof j['level'] === 'number' ? j['level'] : 0;
        if (lv < 40) continue;
        level = levels[lv] ?? String(lv);
        const rest = Object.entries(j)
          .filter(([k]) => !['level', 'time', 'instance', 'pid', 'hostname', 'payoutId', 'requestId'].includes(k))
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(' ');
        msg = typeof j['msg'] === 'string' ? j['msg'] : `(no msg) ${rest.slice(0, 120)}`;
      } catch {
        // not pino JSON: a raw line (stack trace, warning)
      }
      const key = `${level}\0${msg}`;
      const entry = counts.get(key) ?? { level, msg, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

function serialisableRecords(records: RunRecords): unknown {
  return {
    keys: records.keys.map((k) => (k ? { ...k, instancesUsed: [...k.instancesUsed] } : k)),
    subscribers: records.subscribers,
    reads: records.reads,
  };
}

export function commandLine(o: ChaosOptions): string {
  const parts = ['npm run chaos --'];
  if (o.quick) parts.push('--quick');
  parts.push(`--payouts ${o.payouts}`, `--clients ${o.clients}`, `--seed ${o.seed}`);
  if (o.redisPersistence !== 'always') parts.push(`--redis-persistence ${o.redisPersistence}`);
  if (o.redisRestarts !== 1) parts.push(`--redis-restarts ${o.redisRestarts}`);
  if (o.redisPauses !== 1) parts.push(`--redis-pauses ${o.redisPauses}`);
  if (o.gatewayKills !== 1) parts.push(`--gateway-kills ${o.gatewayKills}`);
  if (o.gatewayRestarts !== 1) parts.push(`--gateway-restarts ${o.gatewayRestarts}`);
  return parts.join(' ');
}
