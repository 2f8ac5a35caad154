import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

import type { AttemptInfo } from '../zopay/client.js';
import { SCOPES, type Viewer } from '../auth/viewer.js';
import { maskEveryPhoneForm } from './msisdn.js';

const BREAKER_STATES: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };
/** Distinct operation names kept as label values (see operationLabel). */
export const MAX_OPERATION_LABELS = 200;

/** Prometheus metrics of one gateway instance (its own registry, so several instances can share a process in tests). */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly operationLabels = new Set<string>();
  readonly operations = new Counter({ name: 'graphql_operations_total', help: 'GraphQL operations by name, type and outcome', labelNames: ['operation', 'type', 'outcome'], registers: [this.registry] });
  readonly operationSeconds = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operation execution time',
    labelNames: ['operation', 'type', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly upstream = new Counter({ name: 'zopay_requests_total', help: 'ZoPay attempts by endpoint and HTTP status (0 = no answer)', labelNames: ['endpoint', 'status'], registers: [this.registry] });
  readonly upstreamSeconds = new Histogram({
    name: 'zopay_request_duration_seconds',
    help: 'ZoPay attempt latency',
    labelNames: ['endpoint'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'zopay_retries_total', help: 'ZoPay attempts after the first, by endpoint', labelNames: ['endpoint'], registers: [this.registry] });
  /** Live values read at scrape time; set by whoever owns them. */
  sources: { breakerState: () => string; connections: () => number; subscriptions: () => number } = {
    breakerState: () => 'closed',
    connections: () => 0,
    subscriptions: () => 0,
  };
  readonly breaker: Gauge = new Gauge({
    name: 'zopay_circuit_state',
    help: 'Circuit breaker: 0 closed, 1 half-open, 2 open',
    registers: [this.registry],
    collect: (): void => this.breaker.set(BREAKER_STATES[this.sources.breakerState()] ?? 0),
  });
  readonly webhooks = new Counter({ name: 'webhooks_total', help: 'ZoPay webhooks by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly finalConflicts = new Counter({
    name: 'payout_final_conflicts_total',
    help: 'Another final status than the stored one (which is kept), by source: "webhook" (a delivery), "read" (ZoPay\'s own read now says otherwise: review the payout with ZoPay)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly connections: Gauge = new Gauge({
    name: 'graphql_ws_connections',
    help: 'Open graphql-ws connections',
    registers: [this.registry],
    collect: (): void => this.connections.set(this.sources.connections()),
  });
  readonly subscriptions: Gauge = new Gauge({
    name: 'graphql_subscriptions_active',
    help: 'Live payoutStatus subscriptions (WebSocket and SSE)',
    registers: [this.registry],
    collect: (): void => this.subscriptions.set(this.sources.subscriptions()),
  });
  readonly subscriptionEvents = new Counter({
    name: 'graphql_subscription_events_total',
    help: 'Subscription events per subscriber: "executed" ran the selection, "shared" reused the result of an identical selection for the same event',
    labelNames: ['execution'],
    registers: [this.registry],
  });
  private readonly executedEvents = this.subscriptionEvents.labels('executed');
  private readonly sharedEvents = this.subscriptionEvents.labels('shared');
  readonly directWrites = new Counter({
    name: 'graphql_subscription_direct_writes_total',
    help: 'Subscription events written by the WebSocket transport itself, in the turn they arrived or once their shared read answered; the others went through graphql-ws (SSE, a busy socket)',
    registers: [this.registry],
  });
  readonly subscriptionEvent = (shared: boolean, direct: boolean): void => {
    (shared ? this.sharedEvents : this.executedEvents).inc();
    if (direct) this.directWrites.inc();
  };
  readonly redisErrors = new Counter({ name: 'redis_errors_total', help: 'Redis connection errors by role', labelNames: ['role'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  recordAttempt(a: AttemptInfo): void {
    this.upstream.inc({ endpoint: a.operation, status: String(a.status ?? 0) });
    this.upstreamSeconds.observe({ endpoint: a.operation }, a.durationMs / 1000);
    if (a.attempt > 1) this.retries.inc({ endpoint: a.operation });
  }

  /**
   * Operation names are chosen by clients, and every label value is a series kept for the life of the
   * process. A name becomes a label only when a caller with a payouts scope ran it without errors (its
   * own apps' operations), and at most MAX_OPERATION_LABELS of them (then `other`). Anything else is
   * counted under its name if already known, else under `unauthenticated` (no valid token) or `other`:
   * neither an anonymous flood nor a token without a scope, nor failing operations, grows the registry.
   */
  operationLabel(name: string, caller: 'trusted' | 'untrusted' | 'anonymous'): string {
    // A name can hold anything, a phone number included: masked like a log line.
    const label = maskEveryPhoneForm(name.slice(0, 64));
    if (this.operationLabels.has(label)) return label;
    if (caller === 'anonymous') return 'unauthenticated';
    if (caller === 'untrusted' || this.operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
    this.operationLabels.add(label);
    return label;
  }

  /** Operation counts and durations; subscriptions count once when they start. */
  yogaPlugin(): Plugin {
    const { operations, operationSeconds } = this;
    const executed = new WeakSet<Request>();
    const label = (name: string, who: 'trusted' | 'untrusted' | 'anonymous') => this.operationLabel(name, who);
    const caller = (context: unknown, ok: boolean): 'trusted' | 'untrusted' | 'anonymous' => {
      const viewer = (context as { viewer?: Viewer | null } | undefined)?.viewer;
      if (!viewer) return 'anonymous';
      return ok && (viewer.scopes.has(SCOPES.READ) || viewer.scopes.has(SCOPES.WRITE)) ? 'trusted' : 'untrusted';
    };
    return {
      onExecute({ args }) {
        const op = (args.document as DocumentNode).definitions.find((d) => d.kind === 'OperationDefinition');
        const name = args.operationName ?? (op && 'name' in op ? op.name?.value : undefined) ?? 'anonymous';
        const type = op && 'operation' in op ? op.operation : 'query';
        const start = performance.now();
        const request = (args.contextValue as { request?: Request }).request;
        if (request) executed.add(request);
        return {
          onExecuteDone({ result }) {
            const ok = !('errors' in result && result.errors?.length);
            const labels = { operation: label(name, caller(args.contextValue, ok)), type, outcome: ok ? 'ok' : 'error' };
            operations.inc(labels);
            operationSeconds.observe(labels, (performance.now() - start) / 1000);
          },
        };
      },
      // Requests refused before execution (parse, limits, validation; some limits throw) are counted
      // too, so attacks show up: any result for a request that never reached execution.
      onResultProcess({ request, result }) {
        if (executed.has(request) || Array.isArray(result) || Symbol.asyncIterator in result) return;
        if (result.errors?.length) operations.inc({ operation: 'rejected', type: 'unknown', outcome: 'error' });
      },
      onSubscribe({ args }) {
        const name = args.operationName ?? 'anonymous';
        operations.inc({ operation: label(name, caller(args.contextValue, true)), type: 'subscription', outcome: 'started' });
        return {
          // One that cannot start (not found, unauthenticated, bad variables) is a single result with
          // errors, over graphql-ws and SSE alike: an error too, so refusals show up.
          onSubscribeResult({ result }) {
            if (Symbol.asyncIterator in result || !result.errors?.length) return;
            operations.inc({ operation: label(name, caller(args.contextValue, false)), type: 'subscription', outcome: 'error' });
          },
        };
      },
    };
  }
}
