/** What the harness plans and what it observes: the inputs of the invariant checks. */
import type { Rng } from './rng.js';

export type FinalStatus = 'SUCCESS' | 'FAILED';
/** What the sandbox number decides; NEVER stays PROCESSING until the harness settles it. */
export type Expected = FinalStatus | 'NEVER';

export interface SubscriberPlan {
  /** Wait after the payout id is known (mid-flight: the payout is usually still PROCESSING). */
  delayMs: number;
  transport: 'ws' | 'sse';
  instance: number;
  /** Subscribe with the back-office token (`payouts:read`) instead of the owner's. */
  asWatcher: boolean;
}

export interface PayoutPlan {
  index: number;
  client: number;
  sub: string;
  key: string;
  /** Another caller uses the same client key (scoping). */
  sharedKey: boolean;
  gateway: 'MTN_MOMO' | 'ORANGE_MONEY';
  msisdn: string;
  /** Last two digits of the sandbox number. */
  suffix: string;
  amount: string;
  expected: Expected;
  concurrentDuplicate: boolean;
  replay: boolean;
  subscribers: SubscriberPlan[];
  ownRead: boolean;
  foreignRead: boolean;
  firstInstance: number;
}

export type ExecObservation =
  | { at: number; instance: number; kind: 'payout'; id: string; status: string }
  | { at: number; instance: number; kind: 'business'; code: string }
  | { at: number; instance: number; kind: 'retry'; reason: string }
  | { at: number; instance: number; kind: 'harness'; detail: string };

export interface KeyRecord {
  plan: PayoutPlan;
  quoteId: string | undefined;
  quoteAttempts: number;
  observations: ExecObservation[];
  /** payout: some answer named a payout; rejected: only definitive business errors; unresolved: retries ran out. */
  outcome: 'pending' | 'payout' | 'rejected' | 'unresolved' | 'no-quote';
  instancesUsed: Set<number>;
  startedAt: number;
  finishedAt: number | undefined;
}

export interface StatusEvent {
  id: string;
  status: string;
  isFinal: boolean;
  at: number;
  attempt: number;
}

export interface SubAttempt {
  instance: number;
  transport: 'ws' | 'sse';
  startedAt: number;
  end: 'complete' | 'error' | 'aborted';
  errors: string[];
  events: number;
}

export interface SubscriberRecord {
  payoutId: string;
  keyIndex: number;
  sub: string;
  asWatcher: boolean;
  plan: SubscriberPlan;
  attempts: SubAttempt[];
  events: StatusEvent[];
  done: 'pending' | 'final' | 'cutoff';
  finishedAt: number | undefined;
}

export interface ReadRecord {
  payoutId: string;
  keyIndex: number;
  sub: string;
  foreign: boolean;
  phase: 'load' | 'final';
  instance: number;
  result: 'payout' | 'null' | 'error';
  status: string | undefined;
  id: string | undefined;
  detail: string | undefined;
}

export class Counter {
  private readonly counts = new Map<string, number>();
  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  entries(): [string, number][] {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1]);
  }
  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
}

export interface RunRecords {
  keys: KeyRecord[];
  subscribers: SubscriberRecord[];
  reads: ReadRecord[];
  /** Client retries by operation and reason. */
  retries: Counter;
  /** Client-side chaos actions (duplicates, replays, cross-instance retries, subscriptions). */
  actions: Counter;
  /** Problems of the harness itself (not of the gateway). */
  harnessErrors: string[];
  /** Every INTERNAL_SERVER_ERROR (masked) answer a client got. */
  masked: { at: number; where: string }[];
}

const SUCCESS_SUFFIXES = ['01', '02'];
const FAILED_SUFFIXES = ['03', '04'];
/** Magic fault numbers (sandbox/README.md): 09 fails, the others succeed. */
const MAGIC_SUFFIXES = ['06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16'];

export function expectedOf(suffix: string): Expected {
  if (suffix === '05') return 'NEVER';
  if (suffix === '03' || suffix === '04' || suffix === '09') return 'FAILED';
  return 'SUCCESS';
}

export interface PlanOptions {
  payouts: number;
  clients: number;
  callers: number;
  runTag: string;
  subscribeRate: number;
  concurrentDuplicateRate: number;
  replayRate: number;
  sharedKeyRate: number;
  pendingForeverRate: number;
  magicRate: number;
  /**
   * Payouts to the never-finishing …05 number watched from the start by one ws and one SSE subscriber on
   * each instance: they stay open through every Redis and gateway fault until the harness settles them.
   */
  sentinels: number;
}

export function callerSub(i: number): string {
  return `chaos-app-${i}`;
}

/** The deterministic plan: which client pays whom, with which key, and what it does around the payout. */
export function planPayouts(o: PlanOptions, rng: Rng): PayoutPlan[] {
  const plans: PayoutPlan[] = [];
  // Client c always acts as caller c % callers: several clients share a caller (one app, many devices).
  const subOf = (client: number) => callerSub(client % o.callers);
  const perClient = new Array<number>(o.clients).fill(0);
  for (let index = 0; index < o.payouts; index++) {
    const client = index % o.clients;
    const n = perClient[client] ?? 0;
    perClient[client] = n + 1;
    const r = rng.next();
    const sentinel = index < o.sentinels;
    let suffix: string;
    if (sentinel || r < o.pendingForeverRate) suffix = '05';
    else if (r < o.pendingForeverRate + o.magicRate) suffix = rng.pick(MAGIC_SUFFIXES);
    else suffix = rng.chance(0.72) ? rng.pick(SUCCESS_SUFFIXES) : rng.pick(FAILED_SUFFIXES);
    const gateway = rng.chance(0.5) ? 'MTN_MOMO' : 'ORANGE_MONEY';
    const msisdn = `+${gateway === 'MTN_MOMO' ? '23767' : '23769'}00000${suffix}`;
    const subscribers: SubscriberPlan[] = [];
    if (sentinel) {
      for (const instance of [0, 1]) {
        for (const transport of ['ws', 'sse'] as const) subscribers.push({ delayMs: 0, transport, instance, asWatcher: index % 2 === 1 });
      }
    } else if (rng.chance(o.subscribeRate)) {
      const count = rng.chance(0.25) ? 2 : 1;
      for (let s = 0; s < count; s++) {
        subscribers.push({
          delayMs: rng.chance(0.15) ? rng.int(1_500, 4_000) : rng.int(0, 1_200),
          transport: rng.chance(0.5) ? 'ws' : 'sse',
          instance: rng.int(0, 1),
          asWatcher: rng.chance(0.2),
        });
      }
    }
    plans.push({
      index,
      client,
      sub: subOf(client),
      key: `${o.runTag}-c${client}-${n}`,
      sharedKey: false,
      gateway,
      msisdn,
      suffix,
      amount: String(rng.int(1, 500) * 100),
      expected: expectedOf(suffix),
      concurrentDuplicate: rng.chance(o.concurrentDuplicateRate),
      replay: rng.chance(o.replayRate),
      subscribers,
      ownRead: rng.chance(0.08),
      foreignRead: rng.chance(0.05),
      firstInstance: rng.int(0, 1),
    });
  }
  // Scoping: pairs of payouts of two different callers take the same client key.
  const pairs = Math.floor((o.payouts * o.sharedKeyRate) / 2);
  const used = new Set<number>();
  let made = 0;
  for (let tries = 0; made < pairs && tries < pairs * 20; tries++) {
    const a = rng.int(0, plans.length - 1);
    const b = rng.int(0, plans.length - 1);
    const pa = plans[a] as PayoutPlan;
    const pb = plans[b] as PayoutPlan;
    if (a === b || used.has(a) || used.has(b) || pa.sub === pb.sub) continue;
    used.add(a);
    used.add(b);
    const key = `${o.runTag}-shared-${made}`;
    pa.key = key;
    pb.key = key;
    pa.sharedKey = true;
    pb.sharedKey = true;
    made++;
  }
  return plans;
}
