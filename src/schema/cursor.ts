import { badUserInputError } from '../services/infra-errors.js';

/** Opaque cursors over ZoPay's limit/offset paging: base64url of a versioned offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o1:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = /^o1:(\d{1,7})$/.exec(cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString('utf8') : '');
  if (!m?.[1]) throw badUserInputError('Invalid cursor', [{ path: 'after', message: 'not a cursor returned by payouts' }]);
  return Number(m[1]);
}
