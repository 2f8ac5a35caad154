import { finished, type Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ZoPayBadResponseError } from './errors.js';
import { translateTransportError, type TransportFailureContext } from './transport-errors.js';

/**
 * The one thing ZoPayClient needs from HTTP: send one already-signed request, return the raw answer.
 * A transport never retries and never parses; it throws only ZoPay errors (connection, timeout, or a
 * 2xx body too large to read) whose `requestSent` says whether ZoPay may have seen the request.
 */
export interface HttpTransport {
  request(req: TransportRequest): Promise<TransportResponse>;
}

export interface TransportRequest {
  method: 'GET' | 'POST';
  /** Path from the leading `/`, exactly as signed. */
  path: string;
  /** Decoded values; the transport percent-encodes them on the wire (the signature uses them raw). */
  query?: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The exact string that was signed. */
  body?: string;
  signal?: AbortSignal;
  /** Whole-attempt budget (queueing, connect, headers and body). */
  timeoutMs?: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  body: string;
}

export interface UndiciTransportOptions {
  /** `scheme://host[:port]` of ZoPay; no path. */
  baseUrl: string;
  connectTimeoutMs: number;
  /** Time allowed from the request being written to the response headers arriving. */
  headersTimeoutMs: number;
  /** Longest silence allowed between response body chunks. */
  bodyTimeoutMs: number;
  /** Keep-alive sockets kept open to ZoPay. Default 10. */
  connections?: number;
  /** Larger response bodies are refused (2xx) or truncated (error statuses). Default 1 MiB. */
  maxResponseBytes?: number;
}

export interface UndiciTransport extends HttpTransport {
  /** Lets in-flight requests finish, then closes the sockets. */
  close(): Promise<void>;
  /** Cuts in-flight requests (they fail as connection errors sent to ZoPay: outcome unknown) and closes. */
  destroy(): Promise<void>;
  /** Requests sent and not yet answered. */
  inFlight(): number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export function createUndiciTransport(opts: UndiciTransportOptions): UndiciTransport {
  const url = new URL(opts.baseUrl);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    // The signed path must be the path ZoPay sees; a base path would silently break every signature.
    throw new TypeError('ZoPay baseUrl must be an origin (scheme://host[:port]) without a path');
  }
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const pool = new Pool(url.origin, {
    connections: opts.connections ?? 10,
    pipelining: 1,
    connectTimeout: opts.connectTimeoutMs,
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
  });
  // Composed once: each request's failure context travels in undici's `opaque` option.
  const dispatcher = pool.compose(trackStart);

  let inFlight = 0;

  async function send(req: TransportRequest): Promise<TransportResponse> {
    const ctx: TransportFailureContext = { started: false };
    if (req.signal?.aborted) throw translateTransportError(req.signal.reason, { started: false, abortedBy: 'caller' });

    const controller = new AbortController();
    const onCallerAbort = (): void => {
      ctx.abortedBy ??= 'caller';
      controller.abort(req.signal?.reason);
    };
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer =
      req.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            ctx.abortedBy ??= 'timeout';
            controller.abort(new Error('attempt timeout'));
          }, Math.max(0, req.timeoutMs));

    inFlight++;
    try {
      const qs = req.query && Object.keys(req.query).length > 0 ? `?${new URLSearchParams(req.query).toString()}` : '';
      const pending = dispatcher.request({
        path: `${req.path}${qs}`,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal: controller.signal,
        opaque: ctx,
      });
      // undici only notices the abort of a queued request once a socket frees up; do not wait for that.
      // The request is then dropped before any byte is written (see trackStart), so `started` stays false.
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
      });
      pending.catch(() => undefined);
      aborted.catch(() => undefined);
      const res = await Promise.race([pending, aborted]);
      const body = await readLimited(res.body, maxBytes);
      if (body.truncated && res.statusCode >= 200 && res.statusCode < 300) {
        throw new ZoPayBadResponseError({ message: 'ZoPay response body exceeds the size limit', httpStatus: res.statusCode });
      }
      return { status: res.statusCode, headers: flattenHeaders(res.headers), body: body.text };
    } catch (err) {
      if (err instanceof ZoPayBadResponseError) throw err;
      throw translateTransportError(err, ctx);
    } finally {
      inFlight--;
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return { request: send, close: () => pool.close(), destroy: () => pool.destroy(), inFlight: () => inFlight };
}

/**
 * An interceptor that marks a request started (its `opaque` failure context) when undici is about to
 * write it on a socket. undici calls `onRequestStart` right before writing; a request aborted while
 * queued is aborted inside that call and never written, so it does not count as started.
 */
const trackStart: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const ctx = (options as { opaque?: unknown }).opaque as TransportFailureContext | undefined;
  return dispatch(options, {
    onRequestStart(controller, context: unknown) {
      handler.onRequestStart?.(controller, context);
      if (!controller.aborted && ctx) ctx.started = true;
    },
    onRequestUpgrade: (controller, status, headers, socket) => handler.onRequestUpgrade?.(controller, status, headers, socket),
    onResponseStart: (controller, status, headers, message) => handler.onResponseStart?.(controller, status, headers, message),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  });
};

/**
 * Reads the body up to `maxBytes` (events rather than an async iterator: this runs on every call).
 * `finished` also settles for a body that errored or closed before we listened, so a read never hangs.
 */
function readLimited(body: Readable, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const text = () => (chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    const stopWatching = finished(body, (err) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve({ text: text(), truncated: false });
    });
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        settled = true;
        stopWatching();
        body.on('error', () => undefined);
        body.destroy();
        resolve({ text: text(), truncated: true });
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
  });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
