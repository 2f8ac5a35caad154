import { z } from 'zod';

/** ZoPay ids are opaque; bound their size and alphabet so they are safe in paths and keys. */
export const PAYOUT_ID = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').regex(/^[A-Za-z0-9_-]*$/, 'must be letters, digits, "-" or "_"');
