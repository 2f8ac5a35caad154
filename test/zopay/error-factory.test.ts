import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../../src/zopay/error-factory.js';
import {
  ZOPAY_ERROR_CODES,
  ZoPayAuthenticationError,
  ZoPayConflictError,
  ZoPayForbiddenError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayNotFoundError,
  ZoPayRateLimitError,
  ZoPayServerError,
} from '../../src/zopay/errors.js';
import type { TransportResponse } from '../../src/zopay/transport.js';

const NOW = Date.parse('2026-01-18T23:30:00.000Z');
const res = (status: number, body: unknown = {}, headers: Record<string, string> = {}): TransportResponse => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const map = (r: TransportResponse) => errorFromResponse(r, { operation: 'executeDisbursement', nowMs: NOW });

describe('errorFromResponse: status → class', () => {
  it.each([
    [400, ZoPayInvalidRequestError, ZOPAY_ERROR_CODES.INVALID_REQUEST, false],
    [422, ZoPayInvalidRequestError, ZOPAY_ERROR_CODES.INVALID_REQUEST, false],
    [401, ZoPayAuthenticationError, ZOPAY_ERROR_CODES.AUTHENTICATION, false],
    [402, ZoPayInsufficientBalanceError, ZOPAY_ERROR_CODES.INSUFFICIENT_BALANCE, false],
    [403, ZoPayForbiddenError, ZOPAY_ERROR_CODES.FORBIDDEN, false],
    [404, ZoPayNotFoundError, ZOPAY_ERROR_CODES.NOT_FOUND, false],
    [409, ZoPayConflictError, ZOPAY_ERROR_CODES.CONFLICT, false],
    [429, ZoPayRateLimitError, ZOPAY_ERROR_CODES.RATE_LIMITED, false],
    [500, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [502, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [503, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [504, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [302, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [405, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
    [418, ZoPayServerError, ZOPAY_ERROR_CODES.SERVER, true],
  ] as const)('%i → %o', (status, cls, code, mayHaveReached) => {
    const err = map(res(status));
    expect(err).toBeInstanceOf(cls);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(status);
    expect(err.mayHaveReachedUpstream).toBe(mayHaveReached);
  });
});

describe('errorFromResponse: upstream details', () => {
  it('keeps `code`, else `error`, as upstreamCode', () => {
    expect(map(res(401, { error: 'Unauthorized', message: 'Invalid signature', code: 'AUTH_ERROR' })).upstreamCode).toBe('AUTH_ERROR');
    expect(map(res(404, { error: 'SETTLEMENT_NOT_FOUND', message: 'x' })).upstreamCode).toBe('SETTLEMENT_NOT_FOUND');
    expect(map(res(400, { message: 'no code' })).upstreamCode).toBeUndefined();
  });

  it('keeps field errors of a 400', () => {
    const err = map(res(400, { error: 'Bad Request', code: 'VALIDATION_ERROR', errors: { amount: ['must be positive'], currency: 'required' } }));
    expect(err).toBeInstanceOf(ZoPayInvalidRequestError);
    expect((err as ZoPayInvalidRequestError).fieldErrors).toEqual({ amount: ['must be positive'], currency: ['required'] });
  });

  it('keeps a correlation id from the body or headers', () => {
    expect(map(res(500, { correlation_id: 'corr-1' })).correlationId).toBe('corr-1');
    expect(map(res(500, {}, { 'x-request-id': 'req-2' })).correlationId).toBe('req-2');
  });

  it('tolerates bodies that are not JSON objects', () => {
    for (const body of ['', 'Bad Gateway', '<html>oops</html>', '[1,2]', 'null', '"str"']) {
      const err = map(res(502, body));
      expect(err).toBeInstanceOf(ZoPayServerError);
      expect(err.upstreamCode).toBeUndefined();
    }
  });
});

describe('errorFromResponse: 429 retry hints', () => {
  const seconds = (r: TransportResponse) => (map(r) as ZoPayRateLimitError).retryAfterSeconds;

  it('prefers the documented `retry_after` header', () => {
    expect(seconds(res(429, { retry_after: 9 }, { retry_after: '2', 'retry-after': '5' }))).toBe(2);
  });

  it('falls back to Retry-After in seconds', () => {
    expect(seconds(res(429, {}, { 'retry-after': '5' }))).toBe(5);
  });

  it('falls back to Retry-After as an HTTP date', () => {
    expect(seconds(res(429, {}, { 'retry-after': new Date(NOW + 30_000).toUTCString() }))).toBe(30);
    expect(seconds(res(429, {}, { 'retry-after': new Date(NOW - 30_000).toUTCString() }))).toBe(0);
  });

  it("falls back to the body's retry_after (number or string)", () => {
    expect(seconds(res(429, { retry_after: 7 }))).toBe(7);
    expect(seconds(res(429, { retry_after: '1.2' }))).toBe(2);
  });

  it("is never longer than ZoPay's 60-second window, whatever a header says (a proxy's date, a typo)", () => {
    expect(seconds(res(429, {}, { retry_after: '86400' }))).toBe(60);
    expect(seconds(res(429, {}, { 'retry-after': new Date(NOW + 7 * 24 * 3_600_000).toUTCString() }))).toBe(60);
    expect(seconds(res(429, { retry_after: 3_600 }))).toBe(60);
  });

  it('is undefined when no hint is usable', () => {
    expect(seconds(res(429, { retry_after: -3 }, { retry_after: 'soon', 'retry-after': 'later' }))).toBeUndefined();
  });
});

describe('errorFromResponse: nothing leaks into messages', () => {
  const secret = 'zo_sandbox_secret_do_not_use_in_production';
  const msisdn = '+237670000001';
  const leaky = {
    error: `Internal error at /srv/app.js for ${msisdn}`,
    message: `stack: Error: boom\n at x-zo-signature=${secret}`,
    code: `${msisdn}`,
    correlation_id: `${msisdn} ${secret}`,
    errors: { msisdn: [`${msisdn} is not allowed`] },
  };

  it.each([400, 401, 402, 403, 404, 409, 422, 429, 500, 503, 418])('%i: message, code and correlation id carry no body text', (status) => {
    const err = map(res(status, leaky, { 'x-zo-key': 'zo_key', 'x-request-id': `${msisdn} trace` }));
    for (const text of [err.message, err.upstreamCode ?? '', err.correlationId ?? '', String(err.stack)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('237670000001');
      expect(text).not.toContain('stack');
      expect(text).not.toContain('/srv/app.js');
    }
    expect(err.message).toMatch(/executeDisbursement/);
  });

  it('keeps a non-JSON body out of the message', () => {
    const err = map(res(500, `Traceback ${secret} ${msisdn}`));
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain(msisdn);
  });
});
