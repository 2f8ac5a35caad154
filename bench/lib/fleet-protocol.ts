/**
 * The control API of the subscriber fleet (subscribers.ts): JSON over HTTP on loopback, one operation at
 * a time. Every operation is bounded by its `timeoutMs` and reports what went wrong as `problems`
 * (strings, the first few of each kind verbatim) instead of throwing, so a scenario can record them.
 */
import type { TimedPause } from './child.js';

export interface ConnectRequest {
  /** ws://host:port/graphql */
  url: string;
  count: number;
  /** Client i authenticates as `${subPrefix}-${i}` (a distinct caller each). */
  subPrefix: string;
  /** Handshakes in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  ms: number;
  problems: string[];
}

export interface SubscribeRequest {
  payoutIds: string[];
  /** all: every client subscribes to every payout; spread: client i to payoutIds[i % length]. */
  mode: 'all' | 'spread';
  /**
   * At most this many subscriptions in flight: clients subscribe in waves, each wave waiting for its
   * snapshots before the next starts. Undefined: all at once.
   */
  wave?: number;
  timeoutMs: number;
}

export interface SubscribeResult {
  subscriptions: number;
  /** From the first subscribe frame sent to the last snapshot received. */
  ms: number;
  /** Subscriptions whose first frame was the expected PROCESSING snapshot. */
  snapshots: number;
  problems: string[];
  /** One snapshot frame as received, for the cross-side comparison. */
  sampleFrame?: string;
}

export interface FireEvent {
  payoutId: string;
  deliveryId: string;
}

export interface FireRequest {
  /** http://host:port of the server whose /webhooks/zopay receives the deliveries. */
  httpUrl: string;
  events: FireEvent[];
  /** 0: all at once; otherwise event k is due k × intervalMs after the start (open loop). */
  intervalMs: number;
  timeoutMs: number;
}

/**
 * All times in ms relative to the first event's due time (one clock: the fleet's); null when it did not
 * happen (JSON has no NaN). `ms()` in lib/fleet.ts turns null into NaN.
 */
export interface FiredEvent {
  payoutId: string;
  dueMs: number;
  sentMs: number;
  /** When the webhook's HTTP answer arrived. */
  answeredMs: number | null;
  httpStatus: number;
  /** Subscriptions of this payout, and how many got the final `next` (and `complete`). */
  expected: number;
  delivered: number;
  completed: number;
  /** Arrival of the final `next` at the first, median and last of its subscribers. */
  firstMs: number | null;
  medianMs: number | null;
  lastMs: number | null;
}

export interface FireResult {
  events: FiredEvent[];
  /** Frames received (next + complete) and expected. */
  frames: number;
  expectedFrames: number;
  problems: string[];
  /** One final `next` and one `complete` as received, for the cross-side comparison. */
  sampleNext?: string;
  sampleComplete?: string;
  /** `completed_at` of the payload whose final `next` is `sampleNext`. */
  sampleCompletedAt?: string;
  /** The fleet's own event-loop blocks during the fire: late arrivals it may have caused. */
  blocks: TimedPause[];
  /** The wall-clock time (ms since the epoch) that the events' relative times count from. */
  startEpochMs: number;
}

export interface FleetStatus {
  clients: number;
  open: number;
  /** Closed or errored without being asked to (by us). */
  closedEarly: number;
  errors: number;
  /** Frames that arrived while no operation expected any (since the last status). */
  strayFrames: number;
  /** WebSocket pings received per client (the gateway's keep-alive; answered automatically). */
  pingsMin: number;
  pingsMax: number;
  activeSubscriptions: number;
  problems: string[];
}

export interface CloseResult {
  closed: number;
  ms: number;
  problems: string[];
}

export const FLEET_PATHS = {
  connect: '/connect',
  subscribe: '/subscribe',
  fire: '/fire',
  status: '/status',
  close: '/close',
} as const;
