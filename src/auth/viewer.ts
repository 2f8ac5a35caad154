export const SCOPES = { WRITE: 'payouts:write', READ: 'payouts:read' } as const;
export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/** The authenticated caller of one request or connection. */
export interface Viewer {
  /** JWT `sub`: owner of payouts and scope of idempotency keys. */
  sub: string;
  scopes: ReadonlySet<string>;
  /** Token expiry (ms since epoch), if the token has one. */
  expiresAt: number | undefined;
}

export function canReadAll(viewer: Viewer): boolean {
  return viewer.scopes.has(SCOPES.READ);
}

/** A caller sees a payout it executed, or every payout with `payouts:read`. */
export function canSeePayout(viewer: Viewer, owner: string | undefined): boolean {
  return canReadAll(viewer) || (owner !== undefined && owner === viewer.sub);
}
