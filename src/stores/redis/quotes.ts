import type { Redis } from 'ioredis';
import { decodeQuote, encodeQuote } from '../quote-codec.js';
import type { QuoteRecord, QuoteStore } from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { storeCall } from './call.js';
import type { RedisKeys } from './keys.js';

export class RedisQuoteStore implements QuoteStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async put(record: QuoteRecord, ttlSeconds: number): Promise<void> {
    assertKeyPart('quoteId', record.quoteId);
    assertPositiveInt('ttlSeconds', ttlSeconds);
    const json = encodeQuote(record);
    await storeCall('quote put', () => this.redis.set(this.keys.quote(record.quoteId), json, 'EX', ttlSeconds));
  }

  async get(quoteId: string): Promise<QuoteRecord | undefined> {
    assertKeyPart('quoteId', quoteId);
    const json = await storeCall('quote get', () => this.redis.get(this.keys.quote(quoteId)));
    return json === null ? undefined : decodeQuote(json);
  }
}
