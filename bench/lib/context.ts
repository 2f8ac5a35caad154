import type { Redis } from 'ioredis';
import type { FailureSample } from './load.js';
import type { BenchOptions } from './options.js';
import type { ChildHandle, RedisHandle } from './processes.js';
import type { Floor } from './floor-kinds.js';
import type { Config } from '../../src/config.js';

/** Per-run credentials: random, never the sandbox defaults (production config refuses those). */
export interface Secrets {
  apiKey: string;
  apiSecret: string;
  origin: string;
  webhookSecret: string;
  jwtSecret: string;
}

export type Side = 'baseline' | 'candidate';

/** Anything that makes the run fail: a non-2xx, an error, a GraphQL error, a wrong answer. */
export interface Problem {
  scenario: string;
  /** baseline, candidate, a reference side (the execute floors) or setup. */
  side: string;
  phase?: 'warmup' | 'measure';
  round?: number;
  message: string;
  sample?: FailureSample;
}

export interface BenchContext {
  options: BenchOptions;
  /** Unique per run: prefixes idempotency keys, delivery ids and seeded payout ids. */
  runTag: string;
  secrets: Secrets;
  /** JWT `sub` of the load's client (the baseline derives upstream keys for the same caller). */
  sub: string;
  token: string;
  redisPrefix: string;
  stub: ChildHandle;
  baseline: ChildHandle;
  gateway: ChildHandle;
  /** Started only when the execute or latency scenario runs: the Yoga and graphql-js floors (floors.ts). */
  floors?: Record<Floor, ChildHandle>;
  /** Started only when a subscription scenario runs: the raw `ws` broadcast baseline (ws-baseline.ts). */
  wsBaseline?: ChildHandle;
  /** The subscriber fleet: every WebSocket client and the webhook sender (subscribers.ts). */
  subscribers?: ChildHandle;
  /** The bare graphql-ws server of the heap scenario (graphql-ws-bare.ts). */
  bareGraphqlWs?: ChildHandle;
  /** The settings the gateway runs with (its config as loaded from its environment) that scenarios size themselves by. */
  gatewayConfig: Pick<Config, 'reconcileIntervalMs' | 'subscriptionsPerCaller' | 'wsMaxSubscriptionsPerConnection'>;
  redis: RedisHandle;
  /** The runner's own connection: seeding and INFO commandstats (never the gateway's). */
  redisClient: Redis;
  problems: Problem[];
  log(line: string): void;
}

/** The recipient every bench quote and payout uses (a sandbox "success" number). */
export const BENCH_MSISDN = '+237670000001';
