import { createHmac } from 'node:crypto';

/** Every component of ZoPay's request string-to-sign (zopay-api.md §2.2). */
export interface SignableRequest {
  /** HTTP verb; upper-cased before signing. */
  method: string;
  /** Path from the leading `/`, without scheme, host or query string. */
  path: string;
  /** Decoded query values; signed raw (not percent-encoded), keys sorted. Undefined values are skipped. */
  query?: Readonly<Record<string, string | number | undefined>>;
  /** The exact body string sent on the wire; empty string (or undefined) for no body. */
  body?: string;
  /** Unix time in seconds, as sent in `x-zo-timestamp`. */
  timestamp: string;
  /** As sent in `x-zo-nonce`. */
  nonce: string;
  /** As sent in `x-zo-origin`. */
  origin: string;
}

/** `k=v` pairs sorted by key and joined with `&`, values raw, as ZoPay's own JS signer does. */
export function sortedQueryString(query: SignableRequest['query']): string {
  if (!query) return '';
  return Object.keys(query)
    .filter((k) => query[k] !== undefined)
    .sort()
    .map((k) => `${k}=${String(query[k])}`)
    .join('&');
}

export function stringToSign(req: SignableRequest): string {
  return (
    req.method.toUpperCase() +
    req.path +
    sortedQueryString(req.query) +
    (req.body ?? '') +
    req.timestamp +
    req.nonce +
    req.origin
  );
}

/** The six `x-zo-*` headers of a signed request, the signature computed over `req`. */
export function signedHeaders(req: SignableRequest, credentials: { apiKey: string; apiSecret: string }): Record<string, string> {
  return {
    'x-zo-key': credentials.apiKey,
    'x-zo-timestamp': req.timestamp,
    'x-zo-nonce': req.nonce,
    'x-zo-origin': req.origin,
    'x-zo-signature': signRequest(req, credentials.apiSecret),
    'x-zo-version': '1.0',
  };
}

/** Lowercase hex HMAC-SHA256 of the string-to-sign, keyed with the merchant secret (UTF-8). */
export function signRequest(req: SignableRequest, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign(req), 'utf8').digest('hex');
}
