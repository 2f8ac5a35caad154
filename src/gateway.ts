import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Config } from './config.js';
import { buildApp, type App } from './app.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createTokenVerifier, ephemeralSecret, mintToken } from './auth/tokens.js';
import { SCOPES } from './auth/viewer.js';
import { schema } from './schema/index.js';
import { PayoutService } from './services/payouts.js';
import { ZoPayClient } from './zopay/client.js';
import { createUndiciTransport } from './zopay/transport.js';
import { CircuitBreaker } from './zopay/circuit-breaker.js';
import { createWebhookHandler } from './webhooks/handler.js';
import { createSharedState, type SharedState } from './shared-state.js';
import { GatewayMetrics } from './lib/metrics.js';

export interface GatewayOptions {
  config: Config;
  /** ZoPay base URL; defaults to config.zopay.baseUrl. */
  zopayBaseUrl: string;
  log?: Logger;
  clock?: { now(): number };
}

export interface Gateway {
  app: App;
  url: string;
  port: number;
  /** Development token with both scopes (only when no auth is configured). */
  devToken: string | undefined;
  state: SharedState;
  breaker: CircuitBreaker;
  metrics: GatewayMetrics;
  log: Logger;
  close(): Promise<void>;
}

/** Builds and starts one gateway instance from a validated config. main.ts and tests use it. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts;
  const clock = opts.clock ?? Date;
  const instanceId = randomUUID();
  const log = opts.log ?? createLogger({ level: config.logLevel, base: { instance: instanceId.slice(0, 8) } });

  let devToken: string | undefined;
  let verifyToken;
  if (config.auth.jwtSecret || config.auth.jwksUrl) {
    let keysFailureLoggedAt = -Infinity;
    verifyToken = createTokenVerifier({
      // A refused token is the client's problem (debug: a flood of bad tokens must not flood the logs);
      // a key source that fails refuses every caller: loud, at most every 10 s.
      onRefused: ({ reason, keysUnavailable }) => {
        if (!keysUnavailable) return log.debug({ reason }, 'bearer token refused');
        if (clock.now() - keysFailureLoggedAt < 10_000) return;
        keysFailureLoggedAt = clock.now();
        log.error({ reason }, 'bearer tokens cannot be verified: the AUTH_JWKS_URL key set is unavailable; every caller is UNAUTHENTICATED');
      },
      ...(config.auth.jwtSecret ? { jwtSecret: config.auth.jwtSecret } : {}),
      ...(config.auth.jwksUrl ? { jwksUrl: config.auth.jwksUrl } : {}),
      ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
      ...(config.auth.audience ? { audience: config.auth.audience } : {}),
    });
  } else {
    // Development without auth: an ephemeral secret (config refuses this in production).
    const secret = ephemeralSecret();
    verifyToken = createTokenVerifier({ jwtSecret: secret });
    devToken = await mintToken(secret, { sub: 'dev-user', scope: `${SCOPES.WRITE} ${SCOPES.READ}`, expiresInSeconds: 12 * 3600 });
  }

  const metrics = new GatewayMetrics();
  const state = await createSharedState({ config, clock, log, onRedisError: (role) => metrics.redisErrors.inc({ role }) });
  const transport = createUndiciTransport({
    baseUrl: opts.zopayBaseUrl,
    connectTimeoutMs: config.zopay.connectTimeoutMs,
    headersTimeoutMs: config.zopay.requestTimeoutMs,
    bodyTimeoutMs: config.zopay.requestTimeoutMs,
  });
  const breaker = new CircuitBreaker({
    clock,
    failureThreshold: config.zopay.breakerFailures,
    coolDownMs: config.zopay.breakerCooldownMs,
    onStateChange: (change) => {
      if (change.state === 'closed') log.warn('ZoPay circuit breaker closed: the probe got an answer');
      else if (change.probe) log.error({ coolDownMs: config.zopay.breakerCooldownMs }, 'ZoPay circuit breaker re-opened: the probe failed');
      else log.error({ failures: change.failures, answers: change.answers, coolDownMs: config.zopay.breakerCooldownMs }, 'ZoPay circuit breaker opened: most of ZoPay\'s recent answers were failures; ZoPay calls fail fast until a probe gets through');
    },
  });
  // Fired once the shutdown grace period is over: every ZoPay call still running ends (see onClose).
  // Each call in flight listens to it (and stops listening when it ends): as many listeners as calls.
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal);
  const zopay = new ZoPayClient({
    transport,
    stop: stopping.signal,
    credentials: { apiKey: config.zopay.apiKey, apiSecret: config.zopay.apiSecret, origin: config.zopay.origin },
    quotePath: config.zopay.quotePath,
    clock,
    breaker,
    budget: state.upstreamBudget,
    policy: {
      maxAttempts: config.zopay.maxAttempts,
      operationDeadlineMs: config.zopay.operationDeadlineMs,
      attemptTimeoutMs: config.zopay.requestTimeoutMs,
    },
    onAttempt: (a) => {
      metrics.recordAttempt(a);
      log.debug({ upstream: a }, 'zopay attempt');
    },
  });

  const payouts = new PayoutService({
    zopay,
    stores: { status: state.stores.payouts, owners: state.stores.owners, idempotency: state.stores.idempotency, quotes: state.stores.quotes, rateLimiter: state.stores.rateLimiter, leases: state.stores.leases, execute: state.stores.execute },
    bus: state.bus,
    clock,
    // Quote expiry is judged on the time shared state is stamped with (Redis's, when shared).
    sharedClock: state.clock,
    log,
    instanceId,
    onFinalConflict: (source) => metrics.finalConflicts.inc({ source }),
    settings: {
      operationDeadlineMs: config.zopay.operationDeadlineMs,
      idempotencyTtlSeconds: config.idempotencyTtlSeconds,
      idempotencyLockTtlMs: config.idempotencyLockTtlMs,
      duplicateWaitMs: Math.min(config.zopay.operationDeadlineMs, 15_000),
      reconcileIntervalMs: config.reconcileIntervalMs,
      mutationRateLimitPerMinute: config.mutationRateLimitPerMinute,
      subscriptionsPerCaller: config.subscriptionsPerCaller,
      subscribeSetupsInFlight: config.subscribeSetupsInFlight,
      recipientCountryCodes: config.recipientCountryCodes,
    },
  });

  const until = config.zopay.previousWebhookSecretUntilMs;
  if (config.zopay.webhookSecrets.length > 1) {
    if (until === undefined) log.warn('ZOPAY_WEBHOOK_SECRET_PREVIOUS is accepted until it is removed; set ZOPAY_WEBHOOK_SECRET_PREVIOUS_UNTIL to end the rotation by itself');
    else if (until <= clock.now()) log.warn({ until: new Date(until).toISOString() }, 'the webhook secret rotation has ended: ZOPAY_WEBHOOK_SECRET_PREVIOUS is refused; remove it');
  }
  const webhook = createWebhookHandler({
    secrets: config.zopay.webhookSecrets,
    ...(until === undefined ? {} : { previousSecretsUntilMs: until }),
    maxBodyBytes: config.http.webhookMaxBodyBytes,
    dedupeTtlSeconds: config.webhookDedupeTtlSeconds,
    deliveries: state.stores.deliveries,
    bus: state.bus,
    ...(state.deliveryChannel ? { publishChannel: state.deliveryChannel } : {}),
    log,
    clock,
    reconcile: (id) => payouts.refresh(id),
    onOutcome: (outcome) => metrics.webhooks.inc({ outcome }),
    onFinalConflict: (source) => metrics.finalConflicts.inc({ source }),
  });

  let cutting: Promise<void> | undefined;
  const cutInFlight = (): Promise<void> =>
    (cutting ??= (async () => {
      const cut = transport.inFlight();
      const executes = payouts.executesInFlight();
      if (cut > 0 || executes > 0) log.warn({ cut, executes }, 'ZoPay calls still in flight after the shutdown grace period are cut; an execute among them is retried safely with the same key');
      stopping.abort();
      const unsettled = await payouts.settleExecutes(2_000);
      if (unsettled > 0) log.error({ unsettled }, 'executes still running at shutdown: their keys stay locked until the lock expires, then a retry resumes with the same upstream key');
    })());
  const app = buildApp({
    config,
    schema,
    log,
    payouts,
    verifyToken,
    ...(devToken ? { devToken } : {}),
    clock,
    yogaPlugins: [metrics.yogaPlugin()],
    onSubscriptionEvent: metrics.subscriptionEvent,
    shutdownGraceMs: config.shutdownGraceMs,
    shutdownDrainMs: config.shutdownDrainMs,
    endStreams: () => payouts.endStreams(),
    routes: {
      'POST /webhooks/zopay': webhook,
      'GET /metrics': async (_req, res) => {
        const body = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body);
      },
    },
    // Ready = this instance can serve: it accepts work and reaches Redis. ZoPay's health is reported, not
    // gated on: every instance shares ZoPay, so an open breaker would take them all out of the load
    // balancer at once, and with them the reads, subscriptions and webhooks that need no ZoPay call (an
    // execute fails fast on its own with UPSTREAM_UNAVAILABLE meanwhile).
    readiness: {
      store: () => state.ping(),
    },
    readinessInfo: () => ({ upstream: { circuit: breaker.state, pausedForMs: zopay.pausedForMs() } }),
    // The grace period is over: a ZoPay call still waiting would hold the process until its own timeout.
    // Cut every call (no more waits or retries either), then give the executes among them a moment to
    // mark their keys unknown and answer (the app still holds their connections): a retry with the same
    // key then resumes at once with the same upstream key (ZoPay replays the payout if it made one).
    // Runs once, from the app before it closes the connections, or from onClose otherwise.
    cutInFlight,
    onClose: async () => {
      await payouts.close();
      await cutInFlight();
      await (transport.inFlight() > 0 ? transport.destroy() : transport.close());
      await state.close();
    },
  });
  metrics.sources = {
    breakerState: () => breaker.state,
    connections: () => app.wsClients(),
    subscriptions: () => payouts.activeSubscriptions(),
  };
  const { url, port } = await app.listen(config.port, config.host);
  return { app, url, port, devToken, state, breaker, metrics, log, close: () => app.close() };
}
