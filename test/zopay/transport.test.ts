import { afterEach, describe, expect, it } from 'vitest';
import { ZoPayBadResponseError, ZoPayConnectionError, ZoPayError, ZoPayTimeoutError } from '../../src/zopay/errors.js';
import { createUndiciTransport, type UndiciTransport, type UndiciTransportOptions } from '../../src/zopay/transport.js';
import {
  closedPortUrl,
  destroySocket,
  hang,
  respond,
  stallBody,
  startScriptedUpstream,
  type ScriptedUpstream,
  type UpstreamAction,
} from '../helpers/scripted-upstream.js';

const SECRET = 'transport_test_secret';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(script: UpstreamAction[], over: Partial<UndiciTransportOptions> = {}) {
  const upstream: ScriptedUpstream = await startScriptedUpstream({ apiSecret: SECRET, script });
  const transport: UndiciTransport = createUndiciTransport({
    baseUrl: upstream.url,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 2_000,
    bodyTimeoutMs: 2_000,
    ...over,
  });
  cleanups.push(() => upstream.close(), () => transport.close());
  return { upstream, transport };
}

async function failure(p: Promise<unknown>): Promise<ZoPayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ZoPayError) return err;
    throw err;
  }
  throw new Error('expected a ZoPay error');
}

const get = { method: 'GET', path: '/api/v1/disbursements/p-1', headers: {} } as const;

describe('createUndiciTransport', () => {
  it('sends method, path, headers and body, and returns status, lower-case headers and body', async () => {
    const { upstream, transport } = await setup([respond(201, { ok: true }, { 'X-Correlation-Id': 'c-1' })]);
    const res = await transport.request({ method: 'POST', path: '/api/v1/x', headers: { 'x-zo-key': 'k', 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res).toMatchObject({ status: 201, body: '{"ok":true}' });
    expect(res.headers['x-correlation-id']).toBe('c-1');
    expect(upstream.requests[0]).toMatchObject({ method: 'POST', path: '/api/v1/x', body: '{"a":1}' });
    expect(upstream.requests[0]?.headers['x-zo-key']).toBe('k');
  });

  it('percent-encodes query values on the wire while the server decodes them back', async () => {
    const { upstream, transport } = await setup([respond(200, {})]);
    await transport.request({ ...get, path: '/api/v1/disbursements', query: { startDate: '2024-01-01T00:00:00Z', batch_id: 'a&b=c' } });
    expect(upstream.requests[0]?.rawUrl).toBe('/api/v1/disbursements?startDate=2024-01-01T00%3A00%3A00Z&batch_id=a%26b%3Dc');
    expect(upstream.requests[0]?.query).toEqual({ startDate: '2024-01-01T00:00:00Z', batch_id: 'a&b=c' });
  });

  it('refuses a base URL with a path (it would break every signature)', () => {
    expect(() => createUndiciTransport({ baseUrl: 'https://api.zopay.com/v1', connectTimeoutMs: 1, headersTimeoutMs: 1, bodyTimeoutMs: 1 })).toThrow(TypeError);
  });

  it('reports a refused connection as not sent', async () => {
    const transport = createUndiciTransport({ baseUrl: await closedPortUrl(), connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 });
    cleanups.push(() => transport.close());
    const err = await failure(transport.request(get));
    expect(err).toBeInstanceOf(ZoPayConnectionError);
    expect((err as ZoPayConnectionError).requestSent).toBe(false);
    expect(err.mayHaveReachedUpstream).toBe(false);
  });

  it('reports a missing answer after the request was read as a headers timeout that may have reached ZoPay', async () => {
    const { upstream, transport } = await setup([hang()], { headersTimeoutMs: 150 });
    const err = await failure(transport.request({ method: 'POST', path: '/api/v1/disbursements/execute', headers: {}, body: '{}' }));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect((err as ZoPayTimeoutError).requestSent).toBe(true);
    expect(upstream.requests).toHaveLength(1);
  });

  it('reports the attempt timeout firing after sending as an unknown outcome', async () => {
    const { transport } = await setup([hang()]);
    const err = await failure(transport.request({ ...get, timeoutMs: 100 }));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect(err.mayHaveReachedUpstream).toBe(true);
  });

  it('reports the attempt timeout firing while still queued as not sent', async () => {
    const { upstream, transport } = await setup([hang(), respond(200, {})], { connections: 1 });
    const first = transport.request(get).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    const err = await failure(transport.request({ ...get, timeoutMs: 100 }));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect((err as ZoPayTimeoutError).requestSent).toBe(false);
    expect(upstream.requests).toHaveLength(1);
    await upstream.close();
    await first;
  });

  it('reports a socket destroyed after the body was read as an unknown outcome', async () => {
    const { upstream, transport } = await setup([destroySocket()]);
    const err = await failure(transport.request({ method: 'POST', path: '/api/v1/disbursements/execute', headers: {}, body: '{"a":1}' }));
    expect(err).toBeInstanceOf(ZoPayConnectionError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(upstream.requests[0]?.body).toBe('{"a":1}');
  });

  it('reports a stalled response body as a body timeout that may have reached ZoPay', async () => {
    const { transport } = await setup([stallBody()], { bodyTimeoutMs: 150 });
    const err = await failure(transport.request(get));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect((err as ZoPayTimeoutError).requestSent).toBe(true);
  });

  it('reports a caller abort before sending as not sent, and after sending as unknown', async () => {
    const { transport } = await setup([hang()]);
    const pre = new AbortController();
    pre.abort();
    const before = await failure(transport.request({ ...get, signal: pre.signal }));
    expect(before).toBeInstanceOf(ZoPayConnectionError);
    expect(before.mayHaveReachedUpstream).toBe(false);

    const during = new AbortController();
    setTimeout(() => during.abort(), 100);
    const after = await failure(transport.request({ ...get, signal: during.signal }));
    expect(after.mayHaveReachedUpstream).toBe(true);
  });

  it('refuses an oversized 2xx body but returns a truncated error body', async () => {
    const big = 'x'.repeat(5_000);
    const { transport } = await setup([respond(200, big), respond(500, big)], { maxResponseBytes: 1_000 });
    const err = await failure(transport.request(get));
    expect(err).toBeInstanceOf(ZoPayBadResponseError);
    expect(err.httpStatus).toBe(200);
    const res = await transport.request(get);
    expect(res.status).toBe(500);
    expect(res.body.length).toBe(1_000);
  });

  it('reuses keep-alive connections across requests', async () => {
    const { upstream, transport } = await setup([respond(200, {}), respond(200, {}), respond(200, {})]);
    for (let i = 0; i < 3; i++) await transport.request(get);
    const ports = new Set(upstream.requests.map((r) => r.headers['connection']));
    expect(ports.has('close')).toBe(false);
    expect(upstream.requests).toHaveLength(3);
  });
});
