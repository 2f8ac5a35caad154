import { getEventListeners, setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZoPayClientOptions } from '../../src/zopay/client-options.js';
import { ZoPayClient } from '../../src/zopay/client.js';
import { ZoPayConnectionError, ZoPayError, ZoPayTimeoutError } from '../../src/zopay/errors.js';
import { createUndiciTransport } from '../../src/zopay/transport.js';
import {
  closedPortUrl,
  destroySocket,
  hang,
  respond,
  startScriptedUpstream,
  type UpstreamAction,
} from '../helpers/scripted-upstream.js';

const CREDENTIALS = { apiKey: 'key_http', apiSecret: 'secret_http', origin: 'http://localhost:4000' };
const EXECUTE = { quoteId: 'q-1', idempotencyKey: 'idem-http-1', recipientMsisdn: '+237670000001' };
const QUOTE = { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipientMsisdn: '+237670000001' } as const;
const EXECUTED = respond(200, { payout_id: 'p-1', status: 'PROCESSING', gateway_reference: 'REF', correlation_id: 'c-1' });
const QUOTED = respond(201, { quote_id: 'q-1', gateway_fee: '50.00', platform_fee: '25.00', total_amount: '5000.00', net_to_merchant: '-5075.00' });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function client(baseUrl: string, over: Partial<ZoPayClientOptions> = {}) {
  const transport = createUndiciTransport({ baseUrl, connectTimeoutMs: 500, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
  cleanups.push(() => transport.close());
  return new ZoPayClient({ transport, credentials: CREDENTIALS, policy: { baseDelayMs: 5, maxDelayMs: 20 }, ...over });
}

async function withUpstream(script: UpstreamAction[], over: Partial<ZoPayClientOptions> = {}) {
  const upstream = await startScriptedUpstream({ apiSecret: CREDENTIALS.apiSecret, script });
  cleanups.push(() => upstream.close());
  return { upstream, zopay: client(upstream.url, over) };
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

describe('ZoPayClient over real HTTP (undici → node:http)', () => {
  it('succeeds after two 500s with 3 signed attempts, one idempotency_key and 3 distinct nonces', async () => {
    const { upstream, zopay } = await withUpstream([respond(500, {}), respond(500, {}), EXECUTED]);
    await expect(zopay.executeDisbursement(EXECUTE)).resolves.toMatchObject({ id: 'p-1', status: 'PROCESSING' });
    expect(upstream.requests).toHaveLength(3);
    expect(upstream.requests.every((r) => r.signatureValid)).toBe(true);
    expect(new Set(upstream.requests.map((r) => (r.json as { idempotency_key: string }).idempotency_key))).toEqual(new Set(['idem-http-1']));
    expect(new Set(upstream.requests.map((r) => r.headers['x-zo-nonce'])).size).toBe(3);
    expect(upstream.requests[0]?.headers).toMatchObject({ 'x-zo-version': '1.0', 'content-type': 'application/json', 'x-zo-key': 'key_http' });
  });

  it('reports a refused connection as never sent, after retrying it', async () => {
    const zopay = client(await closedPortUrl());
    const err = await failure(zopay.createQuote(QUOTE));
    expect(err).toBeInstanceOf(ZoPayConnectionError);
    expect((err as ZoPayConnectionError).requestSent).toBe(false);
    expect(err.mayHaveReachedUpstream).toBe(false);
  });

  it('reports a server that reads the body and never answers as a timeout that may have reached ZoPay', async () => {
    const { upstream, zopay } = await withUpstream([hang(), QUOTED]);
    const err = await failure(zopay.createQuote(QUOTE));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect((err as ZoPayTimeoutError).requestSent).toBe(true);
    // A quote POST is not retried after an unknown outcome.
    expect(upstream.requests).toHaveLength(1);
  });

  it('reports a socket destroyed after the body was read as may-have-reached, even when retries run out', async () => {
    const { upstream, zopay } = await withUpstream([destroySocket(), destroySocket(), destroySocket(), destroySocket()]);
    const err = await failure(zopay.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayConnectionError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(upstream.requests).toHaveLength(4);
  });

  it('signs a body with non-ASCII characters over exactly the bytes sent', async () => {
    const { upstream, zopay } = await withUpstream([EXECUTED]);
    await zopay.executeDisbursement({ ...EXECUTE, idempotencyKey: 'clé-€-日本-😀' });
    const [req] = upstream.requests;
    expect(req?.signatureValid).toBe(true);
    expect(req?.headers['content-length']).toBe(String(req?.bodyBytes.length));
    expect(req?.bodyBytes.equals(Buffer.from('{"quote_id":"q-1","idempotency_key":"clé-€-日本-😀","recipient":{"msisdn":"+237670000001"}}'))).toBe(true);
  });

  it('signs list queries over raw values while sending them percent-encoded', async () => {
    const { upstream, zopay } = await withUpstream([respond(200, { payouts: [], total: 0, limit: 20, offset: 0, hasMore: false })]);
    await zopay.listPayouts({ limit: 20, offset: 0, startDate: '2024-01-01T00:00:00Z', endDate: '2024-01-31T23:59:59Z' });
    expect(upstream.requests[0]?.rawUrl).toContain('startDate=2024-01-01T00%3A00%3A00Z');
    expect(upstream.requests[0]?.signatureValid).toBe(true);
  });
});

describe('the client\'s stop signal (shutdown)', () => {
  it('cuts a sent execute at once as outcome unknown, and no retry follows', async () => {
    const stop = new AbortController();
    const { upstream, zopay } = await withUpstream([hang(), EXECUTED], { stop: stop.signal, policy: { baseDelayMs: 5, maxDelayMs: 20, attemptTimeoutMs: 5_000, operationDeadlineMs: 20_000 } });
    const started = Date.now();
    const call = failure(zopay.executeDisbursement(EXECUTE));
    while (upstream.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    const err = await call;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toBeInstanceOf(ZoPayConnectionError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(upstream.requests).toHaveLength(1);
  });

  it('leaves no listener on the signal once its calls are over', async () => {
    const stop = new AbortController();
    // As the gateway does with its stop signal: one listener per call in flight is expected, not a leak.
    setMaxListeners(0, stop.signal);
    const { zopay } = await withUpstream(Array.from({ length: 20 }, () => QUOTED), { stop: stop.signal });
    await Promise.all(Array.from({ length: 20 }, () => zopay.createQuote(QUOTE)));
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
