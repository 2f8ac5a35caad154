import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from './config.js';
import type { Logger } from './lib/logger.js';
import type { TokenVerifier } from './auth/tokens.js';
import { bearerToken } from './auth/tokens.js';
import { createContext } from './context.js';
import type { PayoutService } from './services/payouts.js';
import { buildYoga, GRAPHQL_PATH, type GatewayYoga } from './http/yoga.js';
import { attachGraphQLWs } from './http/ws.js';
import type { SubscriptionEventHook } from './realtime/shared-execution.js';
import { BodyTooLargeError, declaredTooLarge, readCappedBody } from './http/body.js';
import { sendJson } from './http/respond.js';
import { maskEveryPhoneForm } from './lib/msisdn.js';
import { shuttingDownError } from './services/infra-errors.js';
import { createMaskError } from './http/mask-error.js';
import { GRAPHIQL_ASSET_PREFIX, serveGraphiQLAsset } from './http/graphiql-assets.js';

/** `log` carries the request id on every line. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, log: Logger) => Promise<void> | void;

export interface AppDeps {
  config: Config;
  schema: GraphQLSchema;
  log: Logger;
  payouts: PayoutService;
  verifyToken: TokenVerifier;
  /** Development only: pre-filled in GraphiQL. */
  devToken?: string;
  /** Extra routes by "METHOD /path" (webhooks, metrics). */
  routes?: Record<string, RouteHandler>;
  /** Readiness checks; each rejects or returns false when not ready. */
  readiness?: Record<string, () => Promise<boolean>>;
  /**
   * Shown by /readyz without deciding it: the state of a dependency every instance shares (ZoPay), which
   * a load balancer must not act on (it would take every instance out at once).
   */
  readinessInfo?: () => Record<string, unknown>;
  yogaPlugins?: Plugin[];
  /** Per subscriber per event: whether its result was shared (one execution per selection and event). */
  onSubscriptionEvent?: SubscriptionEventHook;
  clock?: { now(): number };
  /** How long shutdown waits for in-flight requests. */
  shutdownGraceMs?: number;
  /** How long the listener stays open answering 503 before it closes (load balancers catch up). */
  shutdownDrainMs?: number;
  /** Shutdown step: complete live subscriptions (SSE responses then end by themselves). */
  endStreams?: () => Promise<void>;
  /**
   * Past the shutdown grace: cut the work still waiting (ZoPay calls) so that its requests answer, an
   * execute with its retry-safe error, while their connections are still open.
   */
  cutInFlight?: () => Promise<void>;
  onClose?: () => Promise<void>;
}

export interface App {
  server: Server;
  yoga: GatewayYoga;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Open graphql-ws connections. */
  wsClients(): number;
  /** Graceful stop: refuse new work, finish in-flight requests within the grace period, close sockets. */
  close(): Promise<void>;
}

export function buildApp(deps: AppDeps): App {
  const { config, log } = deps;
  const now = () => deps.clock?.now() ?? Date.now();
  const yoga = buildYoga({
    schema: deps.schema,
    log,
    graphiql: config.http.graphiql,
    introspection: config.http.introspection,
    production: config.isProduction,
    limits: config.limits,
    corsOrigins: config.http.corsOrigins,
    ...(deps.devToken ? { devToken: deps.devToken } : {}),
    plugins: deps.yogaPlugins ?? [],
    ...(deps.onSubscriptionEvent ? { onSubscriptionEvent: deps.onSubscriptionEvent } : {}),
    context: async ({ request, req, wsViewer }) => {
      let viewer = wsViewer ?? null;
      if (wsViewer === undefined) {
        const token = bearerToken(request.headers.get('authorization'));
        viewer = token ? await deps.verifyToken(token) : null;
        if (viewer?.expiresAt !== undefined && viewer.expiresAt <= now()) viewer = null;
      }
      const known = req && requests.get(req);
      const requestId = known?.id ?? safeRequestId(request.headers.get('x-request-id')) ?? randomUUID();
      // Every line the operation logs carries its request id (ties ZoPay's correlation id to it).
      return createContext({
        viewer,
        payouts: deps.payouts.forRequest(requestId),
        requestId,
        // Read only by a subscription (whatwg-node builds the signal on first use).
        ...(wsViewer === undefined ? { clientGone: () => known?.gone.signal() ?? request.signal } : {}),
      });
    },
  });

  const routes = deps.routes ?? {};
  /** The methods each route's path takes ("POST /webhooks/zopay": POST), for a 405's Allow. */
  const methodsByPath = new Map<string, string[]>();
  for (const key of Object.keys(routes)) {
    const [method = '', path = ''] = key.split(' ');
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
  }
  /** What the request handler knows of a request that the context and the routes need too. */
  const requests = new WeakMap<IncomingMessage, { id: string; gone: ClientGone }>();
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  // A request whose headers or body trickle in (or stop short of their Content-Length) holds its socket
  // for this long at most, not Node's default 300 s; answers and streams (SSE) are not bound by it.
  const requestTimeout = config.http.requestTimeoutMs;
  const timeouts = { requestTimeout, headersTimeout: Math.min(requestTimeout, 20_000), connectionsCheckingInterval: Math.min(5_000, Math.ceil(requestTimeout / 4)) };
  const server = createServer(timeouts, (req, res) => {
    inFlight++;
    let over = false;
    const gone = new ClientGone();
    // The request is over when its answer is written or its connection is gone. A pipelined request
    // queued behind another's answer (an SSE stream) never gets a 'close' of its own when the client
    // closes the socket: the socket's 'close' ends it too, or it would stay counted in flight (shutdown
    // would wait out its grace) and its subscription would live on.
    const end = () => {
      if (over) return;
      over = true;
      if (!res.writableFinished) gone.abort();
      untrack(req.socket, end);
      inFlight--;
      if (inFlight === 0) idle?.();
    };
    res.once('close', end);
    track(req.socket, end);
    const header = req.headers['x-request-id'];
    // Everything done for this request, logs included, knows its id: passed along explicitly (an
    // AsyncLocalStorage would cost every promise in the process a hook, ~20 % of an execute's CPU).
    const requestId = safeRequestId(typeof header === 'string' ? header : null) ?? randomUUID();
    // The client's handle on this request in the gateway's logs (what support asks for).
    res.setHeader('x-request-id', requestId);
    if (draining) {
      const path = (req.url ?? '/').split('?')[0];
      res.setHeader('connection', 'close');
      // Still alive while it drains: a liveness probe must not restart an instance that stops cleanly.
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      // Stopping: tell the client (or load balancer) to go elsewhere. A GraphQL client gets the error in
      // GraphQL's shape, with the code it already handles (see shuttingDownError: retry-safe, and the
      // outcome of an execute's key unknown, since it was not checked).
      res.setHeader('retry-after', '1');
      const graphql = path === GRAPHQL_PATH;
      return sendJson(res, 503, graphql ? { errors: [shuttingDownError().toJSON()] } : { error: 'shutting down' });
    }
    requests.set(req, { id: requestId, gone });
    handle(req, res).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.name : 'unknown' }, 'request handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[`${req.method} ${path}`];
    if (route) return route(req, res, log.child({ requestId: requests.get(req)?.id }));
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (config.http.graphiql && req.method === 'GET' && path.startsWith(GRAPHIQL_ASSET_PREFIX) && (await serveGraphiQLAsset(path, res))) return;
    if (path === '/readyz') return readiness(res);
    if (path !== yoga.graphqlEndpoint) {
      // A route's path with another method (GET /webhooks/zopay): 405 and what it takes, not "no such path".
      const allow = methodsByPath.get(path);
      if (allow) {
        res.setHeader('allow', allow.join(', '));
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      return sendJson(res, 404, { error: 'not found' });
    }

    // Media types are case-insensitive (RFC 9110 §8.3.1), Yoga's parsers match them as written:
    // `APPLICATION/JSON` would get a 415 and `TEXT/PLAIN` would pass for a type the CSRF check lets by.
    const type = req.headers['content-type'];
    if (type !== undefined && /[A-Z]|\s;/.test(type)) req.headers['content-type'] = lowerMediaType(type);
    const cap = config.http.maxBodyBytes;
    if (declaredTooLarge(req, cap)) return sendJson(res, 413, { errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    if (req.headers['content-length'] === undefined && req.method === 'POST') {
      // Chunked body: read it here under the cap, then hand Yoga the bytes.
      let body: Buffer;
      try {
        body = await readCappedBody(req, cap);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return sendJson(res, 413, { errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
        }
        throw err;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'transfer-encoding') headers.set(k, v);
      // The request's signal is the client's connection: when it closes before the answer is complete
      // (during a subscription's setup, or at any time during its stream), the signal aborts and the
      // payoutStatus resolver ends the stream, as on the fast path (both tested).
      const signal = requests.get(req)?.gone.signal();
      const response = await yoga.fetch(
        new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: 'POST', headers, body: new Uint8Array(body), ...(signal ? { signal } : {}) }),
        { req },
      );
      return pipeResponse(response, res);
    }
    // Declared length within the cap: Yoga reads the node request directly (the fast path).
    await yoga.requestListener(req, res);
  }

  async function readiness(res: ServerResponse): Promise<void> {
    const checks: Record<string, boolean> = { accepting: !draining };
    await Promise.all(
      Object.entries(deps.readiness ?? {}).map(async ([name, check]) => {
        checks[name] = await check().catch(() => false);
      }),
    );
    const ok = Object.values(checks).every(Boolean);
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks, ...deps.readinessInfo?.() });
  }

  const ws = attachGraphQLWs({
    server,
    yoga,
    verifyToken: deps.verifyToken,
    log,
    maxSubscriptionsPerConnection: config.wsMaxSubscriptionsPerConnection,
    maxPayloadBytes: config.http.maxBodyBytes,
    connectionInitWaitMs: 3_000,
    keepAliveMs: config.wsKeepAliveMs,
    now,
    maskError: createMaskError(config.isProduction),
    admitSubscribe: () => deps.payouts.admitSubscribe(),
  });

  return {
    server,
    yoga,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          const p = typeof addr === 'object' && addr ? addr.port : port;
          resolve({ port: p, url: `http://${host.includes(':') ? `[${host}]` : host}:${p}` });
        });
      }),
    wsClients: () => ws.clients(),
    close: async () => {
      if (draining) return;
      draining = true;
      // Readiness is 503 from now on; connections that still arrive get a clean 503, not a reset.
      if (deps.shutdownDrainMs) await new Promise((r) => setTimeout(r, deps.shutdownDrainMs));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // WebSockets close with 1012 "service restart" (clients reconnect elsewhere); SSE streams end with a
      // retry-safe error. Neither is told `complete`: that would claim the final status was delivered.
      await ws.close();
      await deps.endStreams?.().catch(() => undefined);
      const waitIdle = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      if (inFlight > 0) await waitIdle(deps.shutdownGraceMs ?? 10_000);
      if (inFlight > 0 && deps.cutInFlight) {
        // The requests cut here answer before their sockets close: a client whose execute was cut is
        // told to retry with the same key, not left with a reset it could take for "nothing was sent".
        await deps.cutInFlight().catch(() => undefined);
        if (inFlight > 0) await waitIdle(1_000);
      }
      server.closeAllConnections();
      await closed;
      await deps.onClose?.();
    },
  };
}

/**
 * Whether a request's client has gone (its connection closed before the answer was complete), as an
 * AbortSignal made only when someone asks (a subscription): most requests never need one.
 */
class ClientGone {
  private controller: AbortController | undefined;
  signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  abort(): void {
    (this.controller ??= new AbortController()).abort();
  }
}

/** Requests not yet over, per socket: one 'close' listener per socket, however many are pipelined. */
const pending = new WeakMap<Socket, Set<() => void>>();

function track(socket: Socket, end: () => void): void {
  const ends = pending.get(socket);
  if (ends) return void ends.add(end);
  const first = new Set([end]);
  pending.set(socket, first);
  socket.once('close', () => {
    for (const e of [...first]) e();
    pending.delete(socket);
  });
}

function untrack(socket: Socket, end: () => void): void {
  pending.get(socket)?.delete(end);
}

/** A client-chosen request id is kept only if it is short and plain (it ends up in logs). */
/**
 * The client's `x-request-id` when the logs can carry it as sent: 1–64 of `A-Za-z0-9._:-`, and no phone
 * number in it (which the logs would mask, so the id the client holds would match no line). Otherwise the
 * gateway makes its own, and the response header says which.
 */
function safeRequestId(value: string | null): string | undefined {
  return value && /^[A-Za-z0-9._:-]{1,64}$/.test(value) && maskEveryPhoneForm(value) === value ? value : undefined;
}

async function pipeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  // A client that leaves aborts the request's signal (see handle), which ends a stream behind this body.
  for await (const chunk of response.body) res.write(chunk);
  res.end();
}

/**
 * `Application/JSON ; charset=UTF-8` → `application/json; charset=UTF-8`: the type in lower case and
 * without the white space RFC 9110 allows before its parameters (their values keep their case).
 */
function lowerMediaType(header: string): string {
  const semi = header.indexOf(';');
  return semi === -1 ? header.trim().toLowerCase() : header.slice(0, semi).trim().toLowerCase() + header.slice(semi);
}
