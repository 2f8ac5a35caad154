import { describe, expect, it } from 'vitest';
import { ZoPayConnectionError, ZoPayTimeoutError } from '../../src/zopay/errors.js';
import { translateTransportError } from '../../src/zopay/transport-errors.js';
import { createUndiciTransport } from '../../src/zopay/transport.js';

const withCode = (code: string) => Object.assign(new Error('low-level failure with secrets? no'), { code });

describe('translateTransportError', () => {
  it.each([
    // code, started, class, requestSent
    ['ECONNREFUSED', false, ZoPayConnectionError, false],
    ['ENOTFOUND', false, ZoPayConnectionError, false],
    ['EAI_AGAIN', false, ZoPayConnectionError, false],
    ['EHOSTUNREACH', false, ZoPayConnectionError, false],
    ['UND_ERR_CONNECT_TIMEOUT', false, ZoPayTimeoutError, false],
    ['UND_ERR_HEADERS_TIMEOUT', true, ZoPayTimeoutError, true],
    ['UND_ERR_BODY_TIMEOUT', true, ZoPayTimeoutError, true],
    ['UND_ERR_SOCKET', true, ZoPayConnectionError, true],
    ['ECONNRESET', true, ZoPayConnectionError, true],
    ['EPIPE', true, ZoPayConnectionError, true],
    ['UND_ERR_CLOSED', false, ZoPayConnectionError, false],
    ['SOMETHING_NEW', false, ZoPayConnectionError, false],
    ['SOMETHING_NEW', true, ZoPayConnectionError, true],
  ] as const)('%s (started: %s) → %o, requestSent %s', (code, started, cls, requestSent) => {
    const err = translateTransportError(withCode(code), { started });
    expect(err).toBeInstanceOf(cls);
    expect((err as ZoPayConnectionError | ZoPayTimeoutError).requestSent).toBe(requestSent);
    expect(err.mayHaveReachedUpstream).toBe(requestSent);
    expect(err.message).not.toContain('secrets');
  });

  it('finds a system code on the cause of a wrapped error', () => {
    const wrapped = new Error('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(translateTransportError(wrapped, { started: false })).toMatchObject({ requestSent: false, code: 'ZOPAY_CONNECTION_ERROR' });
  });

  it('maps our own attempt timeout by whether writing had started', () => {
    expect(translateTransportError(new Error('x'), { started: false, abortedBy: 'timeout' })).toMatchObject({ code: 'ZOPAY_TIMEOUT', requestSent: false });
    expect(translateTransportError(new Error('x'), { started: true, abortedBy: 'timeout' })).toMatchObject({ code: 'ZOPAY_TIMEOUT', requestSent: true });
  });

  it('maps a caller abort by whether writing had started', () => {
    expect(translateTransportError(new Error('x'), { started: false, abortedBy: 'caller' })).toMatchObject({ code: 'ZOPAY_CONNECTION_ERROR', requestSent: false });
    expect(translateTransportError(new Error('x'), { started: true, abortedBy: 'caller' })).toMatchObject({ code: 'ZOPAY_CONNECTION_ERROR', requestSent: true });
  });

  it('keeps the original error as the cause only, never in the message', () => {
    const original = withCode('ECONNRESET');
    const err = translateTransportError(original, { started: true });
    expect(err.cause).toBe(original);
  });
});

describe('createUndiciTransport: name resolution failures', () => {
  it('reports a host that does not resolve as not sent', async () => {
    // `.invalid` never resolves (RFC 2606): either NXDOMAIN, a resolver error, or the connect timeout.
    const transport = createUndiciTransport({ baseUrl: 'http://zopay.invalid', connectTimeoutMs: 2_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 });
    try {
      const err: unknown = await transport.request({ method: 'GET', path: '/api/v1/disbursements', headers: {}, timeoutMs: 5_000 }).catch((e: unknown) => e);
      expect(err instanceof ZoPayConnectionError || err instanceof ZoPayTimeoutError).toBe(true);
      expect((err as ZoPayConnectionError).requestSent).toBe(false);
    } finally {
      await transport.close();
    }
  });
});
