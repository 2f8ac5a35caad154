import { decodeQuote, encodeQuote } from '../quote-codec.js';
import type { Clock, QuoteRecord, QuoteStore } from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { TtlMap } from './ttl-map.js';

export class MemoryQuoteStore implements QuoteStore {
  private readonly quotes: TtlMap<string, string>;

  constructor(clock: Clock) {
    this.quotes = new TtlMap(clock);
  }

  async put(record: QuoteRecord, ttlSeconds: number): Promise<void> {
    assertKeyPart('quoteId', record.quoteId);
    assertPositiveInt('ttlSeconds', ttlSeconds);
    this.quotes.set(record.quoteId, encodeQuote(record), ttlSeconds * 1000);
  }

  async get(quoteId: string): Promise<QuoteRecord | undefined> {
    assertKeyPart('quoteId', quoteId);
    const json = this.quotes.get(quoteId);
    return json === undefined ? undefined : decodeQuote(json);
  }
}
