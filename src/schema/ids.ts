import { z } from 'zod';

/** ZoPay ids are opaque; bound their size and alphabet so they are safe in paths and keys. */
export const PAYOUT_ID = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "-" or "_"');
