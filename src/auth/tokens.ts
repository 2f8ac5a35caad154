import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Viewer } from './viewer.js';

export type TokenVerifier = (token: string) => Promise<Viewer | null>;

export interface TokenVerifierOptions {
  /** HS256 shared secret. */
  jwtSecret?: string;
  /** Or a JWKS endpoint for asymmetric tokens (issuer and audience then required). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Allowed clock skew in seconds. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept (until they expire). Default 10 000. */
  cacheSize?: number;
  now?: () => number;
  /**
   * A token was refused: `reason` is jose's error code (or `claims`); `keysUnavailable` when the cause is
   * the JWKS endpoint (unreachable, timed out, invalid), not the token: every caller is refused then.
   */
  onRefused?: (refusal: { reason: string; keysUnavailable: boolean }) => void;
}

/** jose's codes for a token that is itself wrong (expired, forged, wrong claims or algorithm, unknown kid). */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/** Verifies bearer JWTs; returns null for anything invalid (the reason is never shown to clients). */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (opts.jwksUrl) {
    key = createRemoteJWKSet(new URL(opts.jwksUrl));
    algorithms = ['RS256', 'ES256', 'PS256', 'EdDSA'];
  } else if (opts.jwtSecret) {
    key = new TextEncoder().encode(opts.jwtSecret);
    algorithms = ['HS256'];
  } else {
    throw new Error('createTokenVerifier needs jwtSecret or jwksUrl');
  }
  // Verified tokens are cached until they expire: a client sends the same token on every request, and
  // re-verifying it would cost more than the rest of a cheap query. Bounded; oldest entries go first.
  const cache = new Map<string, Viewer>();
  const maxCached = opts.cacheSize ?? 10_000;
  const now = opts.now ?? Date.now;
  return async (token) => {
    const cached = cache.get(token);
    if (cached) {
      if (cached.expiresAt === undefined || cached.expiresAt > now()) return cached;
      cache.delete(token);
    }
    const viewer = await verify(token);
    if (viewer && token.length <= 4096) {
      if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
      cache.set(token, viewer);
    }
    return viewer;
  };

  async function verify(token: string): Promise<Viewer | null> {
    try {
      const verifyOpts = {
        algorithms,
        // Nothing outlives its token: a token without an expiry would be valid (and cached) forever.
        requiredClaims: ['exp'],
        clockTolerance: opts.clockToleranceSeconds ?? 5,
        ...(opts.issuer ? { issuer: opts.issuer } : {}),
        ...(opts.audience ? { audience: opts.audience } : {}),
      };
      const { payload } =
        typeof key === 'function' ? await jwtVerify(token, key, verifyOpts) : await jwtVerify(token, key, verifyOpts);
      const viewer = viewerFromClaims(payload);
      if (!viewer) opts.onRefused?.({ reason: 'claims', keysUnavailable: false });
      return viewer;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const reason = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
      // With a JWKS, anything but a fault of the token itself is the key source failing (fetch failed,
      // timeout, not a key set).
      opts.onRefused?.({ reason, keysUnavailable: typeof key === 'function' && !TOKEN_FAULTS.has(reason) });
      return null;
    }
  }
}

function viewerFromClaims(payload: JWTPayload): Viewer | null {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) return null;
  if (typeof payload.exp !== 'number') return null;
  const rawScope = (payload as { scope?: unknown }).scope;
  const scopes = typeof rawScope === 'string' ? rawScope.split(' ').filter(Boolean) : [];
  return { sub: payload.sub, scopes: new Set(scopes), expiresAt: payload.exp * 1000 };
}

/** Extracts the token of `Bearer <token>`; undefined when absent or malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim());
  return m?.[1];
}

/** HS256 token for development and tests. */
export async function mintToken(
  secret: string,
  claims: { sub: string; scope: string; expiresInSeconds?: number; issuer?: string; audience?: string },
): Promise<string> {
  let jwt = new SignJWT({ scope: claims.scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${claims.expiresInSeconds ?? 3600}s`);
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An ephemeral HS256 secret for development runs without auth configuration. */
export function ephemeralSecret(): string {
  return randomBytes(32).toString('base64url');
}
