import { ZoPayConnectionError, ZoPayTimeoutError, type ZoPayError } from './errors.js';

/**
 * Translates a failed undici call into a ZoPay error with an honest `requestSent` flag.
 *
 * `started` is true once undici began writing the request on a socket (its `onRequestStart` hook fires
 * just before the first byte is written). Before that point nothing can have reached ZoPay; after it,
 * any failure without a complete answer is an unknown outcome.
 */

export interface TransportFailureContext {
  /** undici began writing the request on a socket. */
  started: boolean;
  /** Which of our own abort sources fired, if any. */
  abortedBy?: 'timeout' | 'caller';
}

/** Codes that can only happen while connecting: nothing was written. */
const CONNECT_PHASE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // undici wraps some socket failures; the system code is then on the cause.
  const cause = (err as { cause?: unknown }).cause;
  return cause === err ? undefined : errorCode(cause);
}

export function translateTransportError(err: unknown, ctx: TransportFailureContext): ZoPayError {
  if (ctx.abortedBy === 'timeout') {
    return new ZoPayTimeoutError({
      message: ctx.started
        ? 'ZoPay did not answer within the attempt timeout; the request may have been processed'
        : 'The attempt timed out before the request was sent to ZoPay',
      requestSent: ctx.started,
      cause: err,
    });
  }
  if (ctx.abortedBy === 'caller') {
    return new ZoPayConnectionError({
      message: ctx.started
        ? 'The call was aborted after the request was sent to ZoPay; its outcome is unknown'
        : 'The call was aborted before the request was sent to ZoPay',
      requestSent: ctx.started,
      cause: err,
    });
  }
  const code = errorCode(err);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ZoPayTimeoutError({
        message: 'Timed out connecting to ZoPay; nothing was sent',
        requestSent: false,
        cause: err,
      });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ZoPayTimeoutError({
        message: 'ZoPay sent no response headers in time; the request may have been processed',
        requestSent: true,
        cause: err,
      });
    case 'UND_ERR_BODY_TIMEOUT':
      return new ZoPayTimeoutError({
        message: 'ZoPay stopped sending the response body; the request may have been processed',
        requestSent: true,
        cause: err,
      });
  }
  if (code !== undefined && CONNECT_PHASE_CODES.has(code)) {
    return new ZoPayConnectionError({
      message: 'Could not connect to ZoPay; nothing was sent',
      requestSent: false,
      cause: err,
    });
  }
  return new ZoPayConnectionError({
    message: ctx.started
      ? 'The connection to ZoPay failed after the request was sent; its outcome is unknown'
      : 'The connection to ZoPay failed before the request was sent',
    requestSent: ctx.started,
    cause: err,
  });
}
