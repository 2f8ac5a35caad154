import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { signRequest } from '../../src/zopay/sign.js';

/**
 * A tiny ZoPay-shaped HTTP server for transport and client tests: it records every request, checks its
 * signature with the real signer over the exact bytes received, and answers from a script (one action
 * per request, then the fallback).
 */

export interface RecordedRequest {
  method: string;
  /** Path as received (still percent-encoded, as signed). */
  path: string;
  /** The raw request target, query string included, as it arrived. */
  rawUrl: string;
  /** Decoded query values. */
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  bodyBytes: Buffer;
  body: string;
  /** Whether `x-zo-signature` matches the HMAC of exactly what arrived. */
  signatureValid: boolean;
  /** Parsed JSON body, when it is JSON. */
  json: unknown;
}

export interface UpstreamContext {
  req: RecordedRequest;
  res: ServerResponse;
  socket: Socket;
}
export type UpstreamAction = (ctx: UpstreamContext) => void;

export interface ScriptedUpstream {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface ScriptedUpstreamOptions {
  apiSecret: string;
  script?: UpstreamAction[];
  fallback?: UpstreamAction;
}

export async function startScriptedUpstream(opts: ScriptedUpstreamOptions): Promise<ScriptedUpstream> {
  const requests: RecordedRequest[] = [];
  const script = [...(opts.script ?? [])];
  const fallback = opts.fallback ?? respond(500, { error: 'Internal Server Error', message: 'script exhausted' });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bodyBytes = Buffer.concat(chunks);
      const body = bodyBytes.toString('utf8');
      const url = new URL(req.url ?? '/', 'http://upstream.test');
      const query = Object.fromEntries(url.searchParams);
      const header = (name: string) => {
        const v = req.headers[name];
        return typeof v === 'string' ? v : '';
      };
      const expected = signRequest(
        { method: req.method ?? '', path: url.pathname, query, body, timestamp: header('x-zo-timestamp'), nonce: header('x-zo-nonce'), origin: header('x-zo-origin') },
        opts.apiSecret,
      );
      let json: unknown;
      try {
        json = body === '' ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        rawUrl: req.url ?? '',
        query,
        headers: req.headers,
        bodyBytes,
        body,
        signatureValid: header('x-zo-signature') === expected,
        json,
      };
      requests.push(recorded);
      (script.shift() ?? fallback)({ req: recorded, res, socket: req.socket });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON (or raw string) body. */
export function respond(status: number, body: unknown, headers: Record<string, string> = {}): UpstreamAction {
  return ({ res }) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  };
}

/** Reads the request, then never answers: the client must time out on the headers. */
export function hang(): UpstreamAction {
  return () => undefined;
}

/** Reads the request, then destroys the socket without a byte of response. */
export function destroySocket(): UpstreamAction {
  return ({ socket }) => {
    socket.destroy();
  };
}

/** Sends headers and the first part of a body, then stalls. */
export function stallBody(): UpstreamAction {
  return ({ res }) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"payout_id":');
  };
}

/** A local port with nothing listening on it (connections are refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
