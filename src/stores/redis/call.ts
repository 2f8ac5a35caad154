import { isRedisUnavailableError } from '../../lib/redis.js';
import { StoreUnavailableError } from '../errors.js';

/** Runs one Redis round trip; connection-level failures become StoreUnavailableError. */
export async function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isRedisUnavailableError(err)) throw new StoreUnavailableError(operation, err);
    throw err;
  }
}

/** Script replies are arrays of strings and integers; anything else is a bug worth failing loudly. */
export function replyArray(reply: unknown, operation: string): (string | number)[] {
  if (!Array.isArray(reply)) throw new Error(`Unexpected Redis reply to ${operation}`);
  return reply.map((item: unknown) => {
    if (typeof item === 'string' || typeof item === 'number') return item;
    if (Buffer.isBuffer(item)) return item.toString('utf8');
    if (item === null) return '';
    throw new Error(`Unexpected Redis reply to ${operation}`);
  });
}

export function replyString(value: string | number | undefined, operation: string): string {
  if (value === undefined) throw new Error(`Unexpected Redis reply to ${operation}`);
  return String(value);
}

export function replyNumber(value: string | number | undefined, operation: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n)) throw new Error(`Unexpected Redis reply to ${operation}`);
  return n;
}
