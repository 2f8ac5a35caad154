import { describe, expect, it } from 'vitest';
import { EventBusUnavailableError } from '../../src/events/errors.js';
import { subscribeIterator } from '../../src/events/iterator.js';
import { createMemoryEventBus } from '../../src/events/memory-bus.js';
import type { EventBus } from '../../src/events/types.js';
import type { Payout } from '../../src/zopay/types.js';
import { PREFIX, payout, useBuses } from './harness.js';

async function drain(iterator: AsyncIterableIterator<Payout>): Promise<string[]> {
  const seen: string[] = [];
  for await (const p of iterator) seen.push(`${p.status}${p.amount ?? ''}`);
  return seen;
}

describe('bounded payout iterator', () => {
  it('yields events in order and ends after the final status, releasing the subscription', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_1', { maxBuffer: 10 });
    await it.ready;
    const seen = drain(it.iterator);
    await bus.publish(payout('po_1', 'PROCESSING'));
    await bus.publish(payout('po_1', 'SUCCESS'));
    await bus.publish(payout('po_1', 'FAILED'));
    await expect(seen).resolves.toEqual(['PROCESSING', 'SUCCESS']);
    expect(bus.stats().channels).toBe(0);
  });

  it('keeps at most maxBuffer events for a slow consumer, dropping the oldest non-final ones', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_2', { maxBuffer: 3 });
    await it.ready;
    for (let i = 1; i <= 1_000; i++) {
      await bus.publish({ ...payout('po_2', 'PROCESSING'), amount: String(i) });
      expect(it.buffered()).toBeLessThanOrEqual(3);
    }
    await bus.publish({ ...payout('po_2', 'SUCCESS'), amount: 'final' });
    for (let i = 0; i < 100; i++) await bus.publish(payout('po_2', 'FAILED'));
    expect(it.buffered()).toBe(3);
    expect(it.dropped()).toBe(998);
    await expect(drain(it.iterator)).resolves.toEqual(['PROCESSING999', 'PROCESSING1000', 'SUCCESSfinal']);
  });

  it('never drops the final status, even with a buffer of one', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_3', { maxBuffer: 1 });
    await it.ready;
    await bus.publish(payout('po_3', 'PENDING'));
    await bus.publish(payout('po_3', 'CANCELLED'));
    await bus.publish(payout('po_3', 'PROCESSING'));
    await expect(drain(it.iterator)).resolves.toEqual(['CANCELLED']);
    expect(it.dropped()).toBe(1);
  });

  it('answers concurrent next() calls in order', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_4', { maxBuffer: 2 });
    await it.ready;
    const pending = [it.iterator.next(), it.iterator.next(), it.iterator.next()];
    await bus.publish(payout('po_4', 'PROCESSING'));
    await bus.publish(payout('po_4', 'SUCCESS'));
    const results = await Promise.all(pending);
    expect(results.map((r) => (r.done ? 'done' : r.value.status))).toEqual(['PROCESSING', 'SUCCESS', 'done']);
  });

  it('ends a waiting consumer and unsubscribes on close', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_5', { maxBuffer: 2 });
    await it.ready;
    const next = it.iterator.next();
    await it.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect(bus.stats().channels).toBe(0);
    await bus.publish(payout('po_5', 'SUCCESS'));
    await expect(it.iterator.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('unsubscribes when the consumer breaks out of for-await', async () => {
    const bus = createMemoryEventBus();
    const it = subscribeIterator(bus, 'po_6', { maxBuffer: 2 });
    await it.ready;
    await bus.publish(payout('po_6', 'PENDING'));
    for await (const p of it.iterator) {
      expect(p.status).toBe('PENDING');
      break;
    }
    expect(bus.stats().channels).toBe(0);
  });

  it('surfaces a failed subscription through ready and the first next()', async () => {
    const failing: Pick<EventBus, 'subscribe'> = {
      subscribe: () => Promise.reject(new EventBusUnavailableError('subscribe')),
    };
    const it = subscribeIterator(failing, 'po_7', { maxBuffer: 2 });
    await expect(it.ready).rejects.toBeInstanceOf(EventBusUnavailableError);
    await expect(it.iterator.next()).rejects.toBeInstanceOf(EventBusUnavailableError);
    await expect(it.iterator.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('rejects a buffer smaller than one', () => {
    expect(() => subscribeIterator(createMemoryEventBus(), 'po_8', { maxBuffer: 0 })).toThrow(TypeError);
  });
});

describe('bounded payout iterator over Redis', () => {
  const h = useBuses('redis');

  it('is ready only once Redis has the subscription, and frees it after the final status', async () => {
    const bus = await h.bus();
    const channel = `${PREFIX}payout:po_r`;
    const it = subscribeIterator(bus, 'po_r', { maxBuffer: 4 });
    await it.ready;
    expect(await h.server().numSub(channel)).toBe(1);
    const seen = drain(it.iterator);
    await bus.publish(payout('po_r', 'PROCESSING'));
    await bus.publish(payout('po_r', 'SUCCESS'));
    await expect(seen).resolves.toEqual(['PROCESSING', 'SUCCESS']);
    expect(await h.server().numSub(channel)).toBe(0);
  });
});
