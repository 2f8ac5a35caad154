/**
 * What operators see: /healthz, /readyz (accepting and Redis reachable; ZoPay's breaker and 429 pause shown
 * but not gated on), /metrics (Prometheus text a
 * scraper can parse, with operations, upstream calls, retries, breaker, webhooks, connections,
 * subscriptions and Redis errors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedWebhookHeaders } from '../../src/zopay/webhook-signature.js';
import { MAX_OPERATION_LABELS } from '../../src/lib/metrics.js';
import { EXECUTE, QUOTE, quoteInput } from '../helpers/gateway.js';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { MSISDN_PENDING, SECRETS, ackedWs, gql, payVia, quoteVia, rawRequest, startSecureStack, waitFor, wsOperation, type SecureStack } from './support.js';

let redis: RedisServerHandle;
let stack: SecureStack;
let token: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startSecureStack({ env: { REDIS_URL: redis.url } });
  token = await stack.token('ops-app');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

interface ReadyzBody {
  status: string;
  checks: Record<string, boolean>;
  upstream: { circuit: string; pausedForMs: number };
}

async function readyz(): Promise<{ status: number; body: ReadyzBody }> {
  const res = await fetch(`${stack.url}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyzBody };
}

/** Parses the Prometheus text format strictly enough to catch anything a scraper would choke on. */
function parseMetrics(text: string): { series: Map<string, number>; types: Map<string, string> } {
  const series = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (types.has(type[1] as string)) throw new Error(`duplicate TYPE for ${type[1]}`);
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[Nn][Aa][Nn]|[+-]?[Ii]nf)( \d+)?$/.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const key = `${sample[1]}${sample[2] ?? ''}`;
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.set(key, Number(sample[3]));
  }
  return { series, types };
}

async function scrape(): Promise<{ series: Map<string, number>; types: Map<string, string>; contentType: string | null }> {
  const res = await fetch(`${stack.url}/metrics`);
  expect(res.status).toBe(200);
  return { ...parseMetrics(await res.text()), contentType: res.headers.get('content-type') };
}

/** Sum of every series of `name` whose labels include all of `labels`. */
function total(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of series) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

describe('health and readiness', () => {
  it('/healthz answers 200 without any credentials', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when Redis answers and the breaker is closed', async () => {
    const r = await readyz();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.checks).toEqual({ accepting: true, store: true });
    expect(r.body.upstream).toEqual({ circuit: 'closed', pausedForMs: 0 });
  });
});

describe('/metrics', () => {
  it('is Prometheus text (version 0.0.4) a scraper can parse, with every family declared once', async () => {
    const m = await scrape();
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const family of [
      'graphql_operations_total',
      'zopay_requests_total',
      'zopay_retries_total',
      'zopay_circuit_state',
      'webhooks_total',
      'graphql_ws_connections',
      'graphql_subscriptions_active',
      'redis_errors_total',
    ]) {
      expect(m.types.has(family), family).toBe(true);
    }
  });

  it('counts operations by name and outcome, upstream calls by endpoint and status, and retries', async () => {
    const before = (await scrape()).series;
    const ok = await gql(stack.url, QUOTE.replace('mutation Q(', 'mutation MetricsQuote('), quoteInput(), token);
    expect(ok.errors).toBeUndefined();
    stack.sandbox.faults.inject({ route: 'execute', kind: 'http503', times: 1 });
    const quoteId = await quoteVia(stack.url, token);
    const exec = await gql<{ executeDisbursement: { __typename: string } }>(stack.url, EXECUTE.replace('mutation E(', 'mutation MetricsExecute('), { input: { quoteId, idempotencyKey: 'metrics-retry', recipient: { msisdn: '+237670000001' } } }, token);
    expect(exec.data?.executeDisbursement.__typename).toBe('Payout');

    const after = (await scrape()).series;
    const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
    expect(delta('graphql_operations_total', { operation: 'MetricsQuote', outcome: 'ok' })).toBe(1);
    expect(delta('graphql_operations_total', { operation: 'MetricsExecute', outcome: 'ok' })).toBe(1);
    expect(delta('zopay_requests_total', { endpoint: 'createQuote', status: '200' })).toBe(2);
    expect(delta('zopay_requests_total', { endpoint: 'executeDisbursement', status: '503' })).toBe(1);
    expect(delta('zopay_requests_total', { endpoint: 'executeDisbursement', status: '200' })).toBe(1);
    expect(delta('zopay_retries_total', { endpoint: 'executeDisbursement' })).toBe(1);
  });

  it('logs each operation under the name its document gives it, with or without operationName', async () => {
    const before = stack.logs.lines.length;
    await gql(stack.url, 'query NamedInTheDocument { __typename }', {}, token);
    const lines = stack.logs.lines.slice(before).join('').split('\n').filter((l) => l.includes('"graphql operation"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ operation: 'NamedInTheDocument', errors: [] });
  });

  it('counts operations rejected before execution (a limit hit, a validation error) as errors too: attacks show up', async () => {
    const before = (await scrape()).series;
    await gql(stack.url, `query MetricsBomb { ${'a { '.repeat(40)}b${' }'.repeat(40)} }`, {}, token);
    await gql(stack.url, 'query MetricsBroken { payout(id: "x") { nope } }', {}, token);
    const after = (await scrape()).series;
    expect(total(after, 'graphql_operations_total', { outcome: 'error' }) - total(before, 'graphql_operations_total', { outcome: 'error' })).toBe(2);
  });

  it('lets no caller grow the registry with operation names: only successful operations of a caller with a payouts scope add one, up to a cap', async () => {
    const names = (series: Map<string, number>, prefix: string) =>
      [...series.keys()].filter((k) => k.startsWith('graphql_operations_total{') && k.includes(`operation="${prefix}`));
    const before = (await scrape()).series;
    // Without a token every operation is refused, but it still executes (and is counted): under one label.
    for (let i = 0; i < 30; i++) {
      const r = await gql(stack.url, `query Unauth_${i} { payouts(first: 1) { totalCount } }`, {});
      expect(r.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    }
    // A valid token without a payouts scope (FORBIDDEN everywhere), or a failing operation, adds none.
    const scopeless = await stack.token('ops-no-scope', '');
    for (let i = 0; i < 10; i++) {
      expect((await gql(stack.url, `query Scopeless_${i} { payouts(first: 1) { totalCount } }`, {}, scopeless)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect((await gql(stack.url, `query Failing_${i} { payout(id: "") { id } }`, {}, token)).errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    }
    // A caller with a scope adds the names of operations that succeed, up to the cap; the rest count as `other`.
    for (let i = 0; i < MAX_OPERATION_LABELS + 5; i++) {
      const r = await gql(stack.url, `query Named_${i} { __typename }`, {}, token);
      expect(r.errors).toBeUndefined();
    }
    const after = (await scrape()).series;
    expect(names(after, 'Unauth_')).toEqual([]);
    expect(names(after, 'Scopeless_')).toEqual([]);
    expect(names(after, 'Failing_')).toEqual([]);
    const delta = (labels: Record<string, string>) => total(after, 'graphql_operations_total', labels) - total(before, 'graphql_operations_total', labels);
    expect(delta({ operation: 'other', outcome: 'error' })).toBe(20);
    expect(delta({ operation: 'unauthenticated', outcome: 'error' })).toBe(30);
    const named = new Set(names(after, 'Named_').map((k) => /operation="([^"]*)"/.exec(k)?.[1]));
    expect(named.size).toBeGreaterThan(0);
    expect(named.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS);
    expect(named.size + delta({ operation: 'other', outcome: 'ok' })).toBe(MAX_OPERATION_LABELS + 5);
  });

  it('counts webhooks by outcome', async () => {
    const before = (await scrape()).series;
    const id = await payVia(stack.url, token, 'metrics-webhook', MSISDN_PENDING);
    stack.sandbox.settle(id, 'SUCCESS');
    await waitFor(async () => (await stack.gateway.state.stores.payouts.get(id))?.status === 'SUCCESS', 5_000, 'webhook');
    const raw = JSON.stringify({ event: 'payout.completed', data: { payout_id: id, status: 'SUCCESS' }, timestamp: new Date().toISOString() });
    const forged = signedWebhookHeaders({ secret: 'whsec_forged', rawBody: raw, event: 'payout.completed', deliveryId: 'metrics-forged', timestampMs: Date.now() });
    expect((await rawRequest(stack.url, { path: '/webhooks/zopay', headers: forged, body: raw })).status).toBe(401);
    const genuine = signedWebhookHeaders({ secret: SECRETS.webhookSecret, rawBody: raw, event: 'payout.completed', deliveryId: 'metrics-dup', timestampMs: Date.now() });
    await rawRequest(stack.url, { path: '/webhooks/zopay', headers: genuine, body: raw });
    await rawRequest(stack.url, { path: '/webhooks/zopay', headers: genuine, body: raw });
    const after = (await scrape()).series;
    const delta = (outcome: string) => total(after, 'webhooks_total', { outcome }) - total(before, 'webhooks_total', { outcome });
    expect(delta('accepted')).toBeGreaterThanOrEqual(1);
    expect(delta('rejected')).toBe(1);
    expect(delta('duplicate')).toBe(1);
  });

  it('shows live graphql-ws connections and subscriptions, and drops them when they end', async () => {
    const id = await payVia(stack.url, token, 'metrics-live', MSISDN_PENDING);
    const base = (await scrape()).series;
    const ws = await ackedWs(stack.url, token);
    expect((await wsOperation(ws, 's', 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }', { id })).data).toBeTruthy();
    const live = (await scrape()).series;
    expect(total(live, 'graphql_ws_connections') - total(base, 'graphql_ws_connections')).toBe(1);
    expect(total(live, 'graphql_subscriptions_active') - total(base, 'graphql_subscriptions_active')).toBe(1);
    expect(total(live, 'graphql_operations_total', { type: 'subscription' })).toBeGreaterThanOrEqual(1);
    ws.close();
    await ws.closed;
    await waitFor(async () => total((await scrape()).series, 'graphql_ws_connections') === total(base, 'graphql_ws_connections'), 3_000, 'connection gauge');
    expect(total((await scrape()).series, 'graphql_subscriptions_active')).toBe(total(base, 'graphql_subscriptions_active'));
  });
});

describe('readiness follows its dependencies', () => {
  it('Redis down: /readyz 503 naming the store, /healthz still 200, redis_errors_total grows; Redis back: ready again', async () => {
    const errorsBefore = total((await scrape()).series, 'redis_errors_total');
    await redis.kill();
    try {
      await waitFor(async () => (await readyz()).status === 503, 5_000, 'not ready');
      const r = await readyz();
      expect(r.body.status).toBe('not ready');
      expect(r.body.checks['store']).toBe(false);
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
      await waitFor(async () => total((await scrape()).series, 'redis_errors_total') > errorsBefore, 5_000, 'redis_errors_total to grow');
      // Reconnects fail about twice a second per connection: the metric counts each, the log says it
      // once per connection role, with the cause.
      const logsBefore = stack.logs.lines.length;
      await waitFor(async () => total((await scrape()).series, 'redis_errors_total') >= errorsBefore + 8, 10_000, 'several reconnect failures');
      const lines = stack.logs.lines.slice(logsBefore).filter((l) => l.includes('redis connection error'));
      expect(lines.length).toBeLessThanOrEqual(2);
    } finally {
      await redis.restart();
    }
    await waitFor(async () => (await readyz()).status === 200, 10_000, 'ready again');
  });

  it('breaker open: /readyz still 200 and shows it, zopay_circuit_state 2, and a quote fails fast without reaching ZoPay', async () => {
    const pending = await payVia(stack.url, token, 'ops-breaker-read');
    stack.sandbox.faults.inject({ route: 'quote', kind: 'http500', times: 50 });
    try {
      for (let i = 0; i < 10 && stack.gateway.breaker.state !== 'open'; i++) await gql(stack.url, QUOTE, quoteInput(), token);
      expect(stack.gateway.breaker.state).toBe('open');
      // Every instance shares ZoPay: a load balancer acting on this would take them all out at once.
      const r = await readyz();
      expect(r.status).toBe(200);
      expect(r.body.checks).toEqual({ accepting: true, store: true });
      expect(r.body.upstream.circuit).toBe('open');
      // Operators read why in the log: once, at error level, with the count that opened it.
      const opened = stack.logs.records().filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('ZoPay circuit breaker opened'));
      expect(opened).toHaveLength(1);
      expect(opened[0]).toMatchObject({ level: 50, coolDownMs: stack.config.zopay.breakerCooldownMs });
      expect(opened[0]?.['failures']).toBeGreaterThanOrEqual(stack.config.zopay.breakerFailures);
      expect(total((await scrape()).series, 'zopay_circuit_state')).toBe(2);

      const before = stack.sandbox.requests.length;
      const started = Date.now();
      const res = await gql(stack.url, QUOTE, quoteInput(), token);
      expect(res.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(500);
      expect(stack.sandbox.requests.length).toBe(before);
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
      // A payout the gateway holds is still served, as it knows it (ZoPay cannot be asked meanwhile).
      const read = await gql<{ payout: { id: string; status: string } | null }>(stack.url, 'query($id: ID!) { payout(id: $id) { id status } }', { id: pending }, token);
      expect(read.errors).toBeUndefined();
      expect(read.data?.payout).toEqual({ id: pending, status: 'PROCESSING' });
      expect(stack.sandbox.requests.length).toBe(before);
    } finally {
      stack.sandbox.faults.clear();
    }
  });

  it('a ZoPay 429 pause shows on /readyz, which stays 200: the instance still serves reads, subscriptions and webhooks', async () => {
    // An instance of its own: the pause holds back every ZoPay call of the instance for 30 s.
    const paused = await startSecureStack({ env: { REDIS_URL: redis.url } });
    try {
      paused.sandbox.faults.inject({ route: 'quote', kind: 'rate429', times: 1, retryAfterSeconds: 30 });
      const res = await gql(paused.url, QUOTE, quoteInput(), await paused.token('ops-paused'));
      expect(res.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      const r = await fetch(`${paused.url}/readyz`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as ReadyzBody;
      expect(body.upstream.circuit).toBe('closed');
      expect(body.upstream.pausedForMs).toBeGreaterThan(20_000);
      expect(body.upstream.pausedForMs).toBeLessThanOrEqual(30_000);
    } finally {
      await paused.close();
    }
  });
});
