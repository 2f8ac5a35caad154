/**
 * The fault schedule, driven by load progress (payouts started) so small and large runs see the same
 * mix: upstream fault rules through the sandbox's control API, webhook fault phases, Redis kill -9 +
 * restart, gateway kill -9 + restart. Disruptive events (Redis, gateway) never overlap each other.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosRedis } from './redis.js';
import type { ServiceProcess } from './processes.js';
import type { Rng } from './rng.js';

export const UPSTREAM_FAULT_KINDS = ['http500', 'http503', 'rate429', 'slow', 'commitThenHang', 'commitThenReset', 'resetBeforeCommit'] as const;
export type UpstreamFaultKind = (typeof UPSTREAM_FAULT_KINDS)[number];
type Route = 'quote' | 'execute' | 'get' | 'any';

const MAX_ARMED_RULES = 4;

export interface FaultRuleBody {
  route: Route;
  kind: UpstreamFaultKind;
  times: number;
  delayMs?: number;
  retryAfterSeconds?: number;
}

export interface WebhookFaultsBody {
  dropRate?: number;
  duplicateCount?: number;
  delayMs?: number;
  outOfOrder?: boolean;
}

export interface WebhookPhase {
  from: number;
  to: number | undefined;
  faults: WebhookFaultsBody;
}

export interface DisruptionEvent {
  kind: 'redis-restart' | 'redis-pause' | 'gateway-kill' | 'gateway-restart';
  target: string;
  at: number;
  downMs: number;
  /** Wall time until the service answered again. */
  recoveredAfterMs: number;
  error?: string;
}

export interface FaultLog {
  /** Rule uses injected, by kind and route. */
  injected: Map<UpstreamFaultKind, number>;
  injectedByRoute: Map<string, number>;
  rules: number;
  /** Rules not injected because several were still armed (nobody was calling ZoPay, e.g. breakers open). */
  skipped: number;
  /** Uses left unconsumed when the load ended (cleared). */
  remaining: Map<UpstreamFaultKind, number>;
  webhookPhases: WebhookPhase[];
  disruptions: DisruptionEvent[];
  errors: string[];
}

export interface FaultDriverDeps {
  sandboxUrl: string;
  redis: ChaosRedis;
  gateways: readonly ServiceProcess[];
  rng: Rng;
  payouts: number;
  rulesPer100: number;
  webhookPhases: number;
  redisRestarts: number;
  /** Redis SIGSTOP/SIGCONT (a hung server: commands time out, then run late). */
  redisPauses: number;
  gatewayKills: number;
  /** Graceful gateway restarts (SIGTERM, wait for exit, start): a rolling deploy. */
  gatewayRestarts: number;
  /** True while no request can reach ZoPay (every breaker open or paused by a 429): rules would only pile up. */
  upstreamIdle?: () => boolean;
  log: (line: string) => void;
}

export class FaultDriver {
  readonly log: FaultLog = {
    injected: new Map(),
    injectedByRoute: new Map(),
    rules: 0,
    skipped: 0,
    remaining: new Map(),
    webhookPhases: [],
    disruptions: [],
    errors: [],
  };
  private readonly pending = new Set<Promise<void>>();
  private disruptionChain: Promise<void> = Promise.resolve();
  private kindCycle: UpstreamFaultKind[] = [];
  private phaseCycle: number[] = [];
  private started = 0;
  private nextRuleAt: number;
  private readonly ruleEvery: number;
  private readonly phaseEvery: number;
  private nextPhaseAt = 0;
  private readonly disruptionsAt: { at: number; run: () => Promise<void> }[] = [];
  private closed = false;

  constructor(private readonly deps: FaultDriverDeps) {
    this.ruleEvery = deps.rulesPer100 > 0 ? 100 / deps.rulesPer100 : Number.POSITIVE_INFINITY;
    this.nextRuleAt = Math.min(2, this.ruleEvery);
    this.phaseEvery = deps.webhookPhases > 0 ? Math.max(1, deps.payouts / deps.webhookPhases) : Number.POSITIVE_INFINITY;
    // Disruptions spread over 20–85 % of the load, alternating kinds, never two at once.
    const events: ('redis' | 'pause' | 'gateway' | 'deploy')[] = [];
    for (let i = 0; i < Math.max(deps.redisRestarts, deps.gatewayKills, deps.redisPauses, deps.gatewayRestarts); i++) {
      if (i < deps.redisRestarts) events.push('redis');
      if (i < deps.gatewayKills) events.push('gateway');
      if (i < deps.redisPauses) events.push('pause');
      if (i < deps.gatewayRestarts) events.push('deploy');
    }
    let kills = 0;
    let deploys = 0;
    events.forEach((kind, i) => {
      const at = Math.max(1, Math.floor(deps.payouts * (0.2 + (0.65 * (i + 0.5)) / events.length)));
      if (kind === 'redis') this.disruptionsAt.push({ at, run: () => this.restartRedis() });
      else if (kind === 'pause') this.disruptionsAt.push({ at, run: () => this.pauseRedis() });
      else if (kind === 'deploy') {
        const target = deps.gateways[deploys++ % deps.gateways.length] as ServiceProcess;
        this.disruptionsAt.push({ at, run: () => this.restartGateway(target) });
      } else {
        const target = deps.gateways[(1 + kills++) % deps.gateways.length] as ServiceProcess;
        this.disruptionsAt.push({ at, run: () => this.killGateway(target) });
      }
    });
  }

  /** Called as each payout starts. */
  onStarted(): void {
    if (this.closed) return;
    this.started++;
    while (this.started >= this.nextRuleAt) {
      this.nextRuleAt += this.ruleEvery;
      this.track(this.injectRule());
    }
    if (this.started >= this.nextPhaseAt) {
      this.nextPhaseAt += this.phaseEvery;
      this.track(this.nextWebhookPhase());
    }
    for (const d of this.disruptionsAt) {
      if (this.started === d.at) {
        this.disruptionChain = this.disruptionChain.then(d.run, d.run);
        this.track(this.disruptionChain);
      }
    }
  }

  /** Stops injecting, waits for disruptions in progress, clears every rule and webhook fault. */
  async finish(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    await this.disruptionChain.catch(() => undefined);
    try {
      const res = await fetch(`${this.deps.sandboxUrl}/__sandbox/faults`);
      const body = (await res.json()) as { rules?: { kind: UpstreamFaultKind; times: number }[] };
      for (const r of body.rules ?? []) this.log.remaining.set(r.kind, (this.log.remaining.get(r.kind) ?? 0) + r.times);
      await this.control('/__sandbox/faults/clear', {});
    } catch (err) {
      this.log.errors.push(`clearing faults: ${String(err)}`);
    }
    const last = this.log.webhookPhases[this.log.webhookPhases.length - 1];
    if (last && last.to === undefined) last.to = Date.now();
  }

  private track(p: Promise<void>): void {
    const guarded = p.catch((err: unknown) => {
      this.log.errors.push(err instanceof Error ? err.message : String(err));
    });
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  private async control(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.deps.sandboxUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }

  private async injectRule(): Promise<void> {
    const { rng } = this.deps;
    if (this.deps.upstreamIdle?.()) {
      this.log.skipped++;
      return;
    }
    // Rules armed while no request reaches ZoPay (both breakers open, Redis down) would pile up and fail
    // every request once traffic resumes: keep at most a few armed at a time.
    const armed = await fetch(`${this.deps.sandboxUrl}/__sandbox/faults`, { signal: AbortSignal.timeout(5_000) })
      .then(async (res) => ((await res.json()) as { rules?: unknown[] }).rules?.length ?? 0)
      .catch(() => 0);
    if (armed >= MAX_ARMED_RULES) {
      this.log.skipped++;
      return;
    }
    if (this.kindCycle.length === 0) this.kindCycle = rng.shuffle(UPSTREAM_FAULT_KINDS);
    const kind = this.kindCycle.pop() as UpstreamFaultKind;
    const r = rng.next();
    const route: Route = r < 0.5 ? 'execute' : r < 0.7 ? 'quote' : r < 0.85 ? 'get' : 'any';
    const rule: FaultRuleBody = { route, kind, times: rng.int(1, 3) };
    if (kind === 'slow') rule.delayMs = rng.pick([300, 800, 1_500, 2_500, 3_500]);
    if (kind === 'rate429') rule.retryAfterSeconds = rng.int(1, 2);
    // Counted before the call: a rule the sandbox refused shows up in the errors instead.
    this.log.rules++;
    this.log.injected.set(kind, (this.log.injected.get(kind) ?? 0) + rule.times);
    this.log.injectedByRoute.set(route, (this.log.injectedByRoute.get(route) ?? 0) + rule.times);
    await this.control('/__sandbox/faults', rule);
  }

  private async nextWebhookPhase(): Promise<void> {
    const { rng } = this.deps;
    if (this.phaseCycle.length === 0) this.phaseCycle = rng.shuffle([0, 1, 2, 3, 4, 5]);
    const template = this.phaseCycle.pop() as number;
    const faults: WebhookFaultsBody =
      template === 0
        ? { duplicateCount: rng.int(1, 3) }
        : template === 1
          ? { delayMs: rng.pick([200, 500, 1_000, 1_500]) }
          : template === 2
            ? { outOfOrder: true }
            : template === 3
              ? { dropRate: rng.pick([0.2, 0.35, 0.5]) }
              : template === 4
                ? { duplicateCount: 1, delayMs: 300, outOfOrder: true, dropRate: 0.2 }
                : {};
    const now = Date.now();
    const prev = this.log.webhookPhases[this.log.webhookPhases.length - 1];
    if (prev) prev.to = now;
    this.log.webhookPhases.push({ from: now, to: undefined, faults });
    await this.control('/__sandbox/webhook-faults', faults);
  }

  private async restartRedis(): Promise<void> {
    const downMs = this.deps.rng.int(1_000, 2_500);
    const at = Date.now();
    this.deps.log(`fault: redis kill -9 (down ${downMs} ms)`);
    const ev: DisruptionEvent = { kind: 'redis-restart', target: 'redis', at, downMs, recoveredAfterMs: 0 };
    this.log.disruptions.push(ev);
    try {
      await this.deps.redis.kill();
      await sleep(downMs);
      await this.deps.redis.restart();
    } catch (err) {
      ev.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      ev.recoveredAfterMs = Date.now() - at;
    }
    this.deps.log(`fault: redis back after ${ev.recoveredAfterMs} ms`);
  }

  private async pauseRedis(): Promise<void> {
    const downMs = this.deps.rng.int(2_000, 3_500);
    const at = Date.now();
    this.deps.log(`fault: redis SIGSTOP (hung for ${downMs} ms)`);
    const ev: DisruptionEvent = { kind: 'redis-pause', target: 'redis', at, downMs, recoveredAfterMs: 0 };
    this.log.disruptions.push(ev);
    this.deps.redis.pause();
    try {
      await sleep(downMs);
    } finally {
      this.deps.redis.resume();
      ev.recoveredAfterMs = Date.now() - at;
    }
  }

  private async restartGateway(target: ServiceProcess): Promise<void> {
    const at = Date.now();
    this.deps.log(`fault: ${target.name} graceful restart (SIGTERM, then start)`);
    const ev: DisruptionEvent = { kind: 'gateway-restart', target: target.name, at, downMs: 0, recoveredAfterMs: 0 };
    this.log.disruptions.push(ev);
    try {
      await target.terminate();
      ev.downMs = Date.now() - at;
      await target.start();
    } catch (err) {
      ev.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      ev.recoveredAfterMs = Date.now() - at;
    }
    this.deps.log(`fault: ${target.name} ready again after ${ev.recoveredAfterMs} ms`);
  }

  private async killGateway(target: ServiceProcess): Promise<void> {
    const downMs = this.deps.rng.int(300, 1_500);
    const at = Date.now();
    this.deps.log(`fault: ${target.name} kill -9 (restart after ${downMs} ms)`);
    const ev: DisruptionEvent = { kind: 'gateway-kill', target: target.name, at, downMs, recoveredAfterMs: 0 };
    this.log.disruptions.push(ev);
    try {
      await target.kill();
      await sleep(downMs);
      await target.start();
    } catch (err) {
      ev.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      ev.recoveredAfterMs = Date.now() - at;
    }
    this.deps.log(`fault: ${target.name} ready again after ${ev.recoveredAfterMs} ms`);
  }
}
