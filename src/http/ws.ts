import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Viewer } from '../auth/viewer.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { bearerToken } from '../auth/tokens.js';
import type { Logger } from '../lib/logger.js';
import type { GatewayYoga } from './yoga.js';
import type { GraphQLContext } from '../context.js';
import { createSharedFrames } from './shared-frames.js';
import { Deadlines } from '../lib/deadlines.js';
import { acceptsDirectDelivery } from '../realtime/shared-execution.js';

export interface WsOptions {
  server: Server;
  yoga: GatewayYoga;
  verifyToken: TokenVerifier;
  log: Logger;
  maxSubscriptionsPerConnection: number;
  /** Largest accepted frame; bigger frames close the socket (1009). */
  maxPayloadBytes: number;
  /** How long a client may take to send connection_init (then 4408). */
  connectionInitWaitMs: number;
  keepAliveMs: number;
  now: () => number;
  /** The same masking as HTTP: parse and validation errors over the socket look exactly alike. */
  maskError: (error: unknown, message: string) => Error;
  /**
   * Takes a subscription setup slot before any GraphQL work on a subscribe frame; resolves to its
   * release (idempotent). Bounds the work one burst of frames can queue in the event loop.
   */
  admitSubscribe: () => Promise<() => void>;
}

/** Per connection: the socket, the caller (from connection_init) and its operations. */
interface ConnectionExtra {
  socket: WebSocket;
  /** Sends a message on this socket (corked until the end of the turn); nothing once it is closing. */
  write: (data: string) => void;
  viewer?: Viewer;
  /**
   * Ids of the operations graphql-ws is handling for this connection, from their subscribe frame to
   * the end of their handler, cleanup included (waiting for a setup slot, running, or finishing).
   */
  operations: Set<string>;
  /** Setup slots held by operations of this connection, by operation id, until their first answer (none: no map). */
  setups?: Map<string, () => void>;
}

/** graphql-ws on the GraphQL path of the same HTTP server, with the same schema, auth and masking. */
export function attachGraphQLWs(opts: WsOptions): { close(): Promise<void>; clients: () => number } {
  // Yoga's context wants a Request; over a WebSocket the caller comes from connectionParams instead
  // (wsViewer), so one shared, bodiless Request serves every operation (not one per subscription).
  const wsRequest = new Request(`http://ws.local${opts.yoga.graphqlEndpoint}`, { method: 'POST' });
  // A result shared by many subscribers is serialised once, not once per subscriber.
  const frames = createSharedFrames();
  // The socket must not outlive the token that opened it.
  const expiries = new Deadlines<WebSocket>(opts.now, (socket) => socket.close(CloseCode.Forbidden, 'Token expired'));
  // Subscriptions whose results this transport writes itself, in the event's turn (or once a shared
  // read answers), instead of waiting for graphql-ws to pull each one through its async loop (one pull
  // per subscriber per event is most of a big fan-out's cost). graphql-ws still runs everything else:
  // setup, errors, `complete`, close.
  const directWriters = new WeakMap<ExecutionArgs, (result: ExecutionResult) => void>();

  const server = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
    connectionInitWaitTimeout: opts.connectionInitWaitMs,
    execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
    subscribe: async (args: ExecutionArgs) => {
      const result = await (args.rootValue as Enveloped).subscribe(args);
      const write = directWriters.get(args);
      // Only a stream that is exactly the shared execution's (no plugin wrapped it) can skip the pull.
      if (write && acceptsDirectDelivery(result)) result.deliverDirectly(write);
      return result;
    },
    onConnect: async (ctx) => {
      const raw = ctx.connectionParams?.['authorization'] ?? ctx.connectionParams?.['Authorization'];
      const token = typeof raw === 'string' ? bearerToken(raw) : undefined;
      const viewer = token ? await opts.verifyToken(token) : null;
      if (!viewer) return false; // → 4403 Forbidden
      const extra = ctx.extra;
      extra.viewer = viewer;
      // (A socket that closed while its token was checked has had its onClose: nothing to expire.)
      if (viewer.expiresAt !== undefined && extra.socket.readyState === extra.socket.OPEN) expiries.add(viewer.expiresAt, extra.socket);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const extra = ctx.extra;
      // This one included, and frames still waiting for a setup slot too: a connection cannot queue past its cap.
      if (extra.operations.size > opts.maxSubscriptionsPerConnection) {
        return [new GraphQLError(`At most ${opts.maxSubscriptionsPerConnection} subscriptions per connection`, { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })];
      }
      // Frames of a reconnect storm wait here, cheaply, instead of all running their GraphQL work in
      // one event-loop turn (store replies would then wait behind it past their timeout).
      let taken: (() => void) | undefined = await opts.admitSubscribe();
      // Holds nothing once called (a live subscription's context keeps it).
      const slot = () => {
        if (extra.setups?.get(id) === slot) {
          extra.setups.delete(id);
          if (extra.setups.size === 0) delete extra.setups;
        }
        const t = taken;
        taken = undefined;
        t?.();
      };
      extra.setups?.get(id)?.();
      (extra.setups ??= new Map()).set(id, slot);
      const refuse = (errors: GraphQLError[]) => {
        slot();
        return errors;
      };
      // The socket may have closed while this frame waited (its close already gave back every slot).
      if (extra.socket.readyState !== extra.socket.OPEN) return refuse([new GraphQLError('Connection closed')]);
      const enveloped = opts.yoga.getEnveloped({ request: wsRequest, wsViewer: extra.viewer ?? null, params: payload });
      const mask = (errors: readonly unknown[]) =>
        errors
          .map((e) => opts.maskError(e, 'Unexpected error.'))
          .filter((e): e is GraphQLError => e instanceof GraphQLError)
          .map(withoutHttpStatus);
      let document;
      try {
        document = enveloped.parse(payload.query);
        // Request limits may throw instead of returning errors; either way the client gets an error
        // frame (never a 4500 close whose reason would carry the message).
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return refuse(mask(errors));
      } catch (err) {
        return refuse(mask([err instanceof GraphQLError ? err : new GraphQLError('Invalid request', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]));
      }
      // Only subscriptions keep the slot through their setup: a query or mutation over the socket (a
      // payout can take seconds at ZoPay) must not hold subscription slots.
      const subscription = getOperationAST(document, payload.operationName ?? null)?.operation === 'subscription';
      if (!subscription) slot();
      let contextValue: GraphQLContext;
      try {
        contextValue = await enveloped.contextFactory();
      } catch (err) {
        slot();
        throw err;
      }
      // The payoutStatus resolver keeps the slot until its snapshot is read; anything else gives it back
      // when it answers (onError, onComplete) or the socket closes.
      contextValue.setupSlot = slot;
      const args: ExecutionArgs = {
        schema: enveloped.schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        contextValue,
        rootValue: { execute: enveloped.execute as Enveloped['execute'], subscribe: enveloped.subscribe as Enveloped['subscribe'] },
      };
      if (subscription) {
        const nextFrame = frames.nextFor(id);
        directWriters.set(args, (result) => extra.write(nextFrame(result)));
      }
      return args;
    },
    onNext: (_ctx, _id, _payload, _args, result) => frames.payload(result),
    onError: (ctx, id) => {
      releaseSetup(ctx.extra, id);
    },
    onComplete: (ctx, id) => {
      releaseSetup(ctx.extra, id);
    },
    onClose: (ctx) => {
      const expiresAt = ctx.extra.viewer?.expiresAt;
      if (expiresAt !== undefined) expiries.remove(expiresAt, ctx.extra.socket);
      for (const release of [...(ctx.extra.setups?.values() ?? [])]) release();
      delete ctx.extra.setups;
    },
  });

  const onSent = (err?: Error) => {
    if (err) opts.log.debug({ err: err.name }, 'WebSocket send failed');
  };

  const wss = new WebSocketServer({ server: opts.server, path: opts.yoga.graphqlEndpoint, maxPayload: opts.maxPayloadBytes, handleProtocols });
  wss.on('error', (err) => {
    // The HTTP server's own listen error, passed on by ws: the start-up reports it (a port taken).
    if ((err as NodeJS.ErrnoException).syscall === 'listen') return;
    opts.log.error({ err: err.name }, 'WebSocket server error');
  });

  // Frames written in one turn of the event loop leave in one write per socket: a final status and its
  // `complete` share a system call, and 5,000 subscribers cost 5,000 writes, not 10,000.
  const corked = new Set<Socket>();
  const uncorkAll = () => {
    for (const tcp of corked) tcp.uncork();
    corked.clear();
  };
  const cork = (tcp: Socket) => {
    if (corked.has(tcp)) return;
    if (corked.size === 0) setImmediate(uncorkAll);
    tcp.cork();
    corked.add(tcp);
  };

  // Keep-alive: one sweep for every client (not a timer per socket); terminate the ones that stopped
  // answering pings (half-open TCP).
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (socket, request) => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    socket.once('error', (err) => {
      opts.log.debug({ err: err.name }, 'WebSocket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const tcp = request.socket;
    // graphql-ws knows an operation by its id only: a subscribe that reuses the id of one not yet over
    // (a complete and a subscribe for the same id read together) got the old operation's `complete` and
    // was then dropped, silently. The protocol's answer to an id in use is 4409.
    const operations = new Set<string>();
    const write = (data: string) => {
      if (socket.readyState !== socket.OPEN) return;
      cork(tcp);
      socket.send(data, onSent);
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        // Not waiting for the write callback lets the next frame (often `complete`) join the same write.
        // frames.frame first, whatever happens next: graphql-ws stringified this message just now.
        send: (message) => write(frames.frame(message)),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', (data) => {
            const text = String(data);
            const id = subscribeId(text);
            if (id !== undefined) {
              if (operations.has(id)) {
                socket.close(CloseCode.SubscriberAlreadyExists, 'Subscriber for this id already exists');
                return;
              }
              operations.add(id);
            }
            const over = id === undefined ? undefined : () => operations.delete(id);
            cb(text).then(over, (err: unknown) => {
              over?.();
              // Never the message in the close reason: it could carry internals.
              opts.log.error({ err: err instanceof Error ? err.name : 'unknown' }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, write, operations },
    );
    socket.once('close', (code, reason) => {
      void closed(code, String(reason));
    });
  });
  // The sweep goes 500 sockets per event-loop turn: with thousands of clients, one synchronous pass
  // would hold a status event back for tens of milliseconds.
  const sweep = (sockets: WebSocket[], from: number) => {
    const end = Math.min(from + 500, sockets.length);
    for (let i = from; i < end; i++) {
      const socket = sockets[i] as WebSocket;
      if (socket.readyState !== socket.OPEN) continue;
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
    if (end < sockets.length) setImmediate(() => sweep(sockets, end));
  };
  const pinger = setInterval(() => sweep([...wss.clients], 0), opts.keepAliveMs);
  pinger.unref();

  return {
    clients: () => wss.clients.size,
    close: async () => {
      clearInterval(pinger);
      for (const socket of wss.clients) socket.close(1012, 'Service restart: reconnect');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The id of a `subscribe` message; undefined for anything else (graphql-ws judges malformed messages). */
function subscribeId(text: string): string | undefined {
  // Most frames (pings, pongs, completes) skip the parse. A subscribe's type is the literal text
  // "subscribe" unless the client spelled it with JSON escapes, which graphql-ws reads the same: a frame
  // with any escape is parsed, so no spelling gets past the cap or the reused-id check.
  if (!text.includes('"subscribe"') && !text.includes('\\')) return undefined;
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: unknown } | null;
    return message?.type === 'subscribe' && typeof message.id === 'string' ? message.id : undefined;
  } catch {
    return undefined;
  }
}

function releaseSetup(extra: ConnectionExtra, id: string): void {
  // The slot removes itself from the map.
  extra.setups?.get(id)?.();
}

type OperationResult = ReturnType<NonNullable<ServerOptions['execute']>>;

interface Enveloped {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

/**
 * Yoga marks request errors with the HTTP status it answers them with (`extensions.http`) and drops the
 * mark when it writes an HTTP response; an error frame has no status, so the mark goes here too and the
 * frame's errors read exactly as over HTTP.
 */
function withoutHttpStatus(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, path: error.path ?? null, extensions });
}
