import { describe, expect, it, vi } from 'vitest';
import { EventBusUnavailableError } from '../../src/events/errors.js';
import { BUS_IMPLEMENTATIONS, PREFIX, payout, recorder, useBuses } from './harness.js';

describe.each(BUS_IMPLEMENTATIONS)('event bus contract (%s)', (kind) => {
  const h = useBuses(kind);

  it('delivers a payout published after subscribe resolves, to that payout’s listeners only', async () => {
    const bus = await h.bus();
    const one = recorder();
    const two = recorder();
    await bus.subscribe('po_1', one.listener);
    await bus.subscribe('po_2', two.listener);
    await bus.publish(payout('po_1', 'PROCESSING'));
    await bus.publish(payout('po_1', 'SUCCESS'));
    await vi.waitFor(() => expect(one.received.map((p) => p.status)).toEqual(['PROCESSING', 'SUCCESS']));
    expect(one.received[1]).toEqual(payout('po_1', 'SUCCESS'));
    expect(two.received).toEqual([]);
  });

  it('shares one channel between the local listeners of a payout and frees it with the last one', async () => {
    const bus = await h.bus();
    const a = recorder();
    const b = recorder();
    const offA = await bus.subscribe('po_rc', a.listener);
    const offB = await bus.subscribe('po_rc', b.listener);
    expect(bus.stats()).toMatchObject({ channels: 1, listeners: 2 });
    await offA();
    await bus.publish(payout('po_rc', 'PROCESSING'));
    await vi.waitFor(() => expect(b.received).toHaveLength(1));
    expect(a.received).toEqual([]);
    await offB();
    await offB();
    expect(bus.stats()).toMatchObject({ channels: 0, listeners: 0 });
  });

  it('counts the same function subscribed twice as two listeners', async () => {
    const bus = await h.bus();
    const r = recorder();
    const off = await bus.subscribe('po_twice', r.listener);
    await bus.subscribe('po_twice', r.listener);
    await off();
    await bus.publish(payout('po_twice', 'PENDING'));
    await vi.waitFor(() => expect(r.received).toHaveLength(1));
    expect(bus.stats().listeners).toBe(1);
  });

  it('keeps delivering to other listeners when one throws or rejects', async () => {
    const errors: unknown[] = [];
    const bus = await h.bus({ onListenerError: (err) => errors.push(err) });
    const good = recorder();
    await bus.subscribe('po_t', () => {
      throw new Error('listener bug');
    });
    await bus.subscribe('po_t', (() => Promise.reject(new Error('async listener bug'))) as () => void);
    await bus.subscribe('po_t', good.listener);
    await bus.publish(payout('po_t', 'PROCESSING'));
    await bus.publish(payout('po_t', 'SUCCESS'));
    await vi.waitFor(() => expect(good.received).toHaveLength(2));
    await vi.waitFor(() => expect(bus.stats().listenerErrors).toBe(4));
    expect(errors).toHaveLength(4);
  });

  it('gives each listener its own copy of the payout', async () => {
    const bus = await h.bus();
    const second = recorder();
    await bus.subscribe('po_c', (p) => {
      p.status = 'FAILED';
    });
    await bus.subscribe('po_c', second.listener);
    await bus.publish(payout('po_c', 'SUCCESS'));
    await vi.waitFor(() => expect(second.received).toEqual([payout('po_c', 'SUCCESS')]));
  });

  it('refuses an invalid payout before anything is published', async () => {
    const bus = await h.bus();
    const r = recorder();
    await bus.subscribe('po_bad', r.listener);
    const bad = { ...payout('po_bad', 'PENDING'), status: 'NOPE' } as unknown as Parameters<typeof bus.publish>[0];
    await expect(bus.publish(bad)).rejects.toBeInstanceOf(TypeError);
    await expect(bus.subscribe('', r.listener)).rejects.toBeInstanceOf(TypeError);
    expect(r.received).toEqual([]);
  });

  it('rejects publish and subscribe after close, and stops delivering', async () => {
    const bus = await h.bus();
    const r = recorder();
    await bus.subscribe('po_close', r.listener);
    await bus.close();
    expect(bus.stats().channels).toBe(0);
    await expect(bus.publish(payout('po_close', 'SUCCESS'))).rejects.toBeInstanceOf(EventBusUnavailableError);
    await expect(bus.subscribe('po_close', r.listener)).rejects.toBeInstanceOf(EventBusUnavailableError);
    expect(r.received).toEqual([]);
  });
});

describe('event bus over Redis', () => {
  const h = useBuses('redis');

  it('fans out a publish to subscribers on every instance sharing the Redis', async () => {
    const [a, b] = [await h.bus(), await h.bus()];
    const onA = recorder();
    const onB = recorder();
    await a.subscribe('po_fan', onA.listener);
    await b.subscribe('po_fan', onB.listener);
    await a.publish(payout('po_fan', 'SUCCESS'));
    await vi.waitFor(() => {
      expect(onA.received).toEqual([payout('po_fan', 'SUCCESS')]);
      expect(onB.received).toEqual([payout('po_fan', 'SUCCESS')]);
    });
  });

  it('holds exactly one Redis subscription per watched payout and releases it with the last listener', async () => {
    const bus = await h.bus();
    const channel = `${PREFIX}payout:po_numsub`;
    expect(await h.server().numSub(channel)).toBe(0);
    const offs = await Promise.all(Array.from({ length: 5 }, () => bus.subscribe('po_numsub', () => undefined)));
    expect(await h.server().numSub(channel)).toBe(1);
    await Promise.all(offs.slice(1).map((off) => off()));
    expect(await h.server().numSub(channel)).toBe(1);
    await offs[0]?.();
    expect(await h.server().numSub(channel)).toBe(0);
  });

  it('ends with the right subscription after rapid subscribe/unsubscribe churn', async () => {
    const bus = await h.bus();
    const channel = `${PREFIX}payout:po_churn`;
    const cycles = Array.from({ length: 20 }, async () => {
      const off = await bus.subscribe('po_churn', () => undefined);
      await off();
    });
    const keeper = recorder();
    const [off] = await Promise.all([bus.subscribe('po_churn', keeper.listener), ...cycles]);
    expect(await h.server().numSub(channel)).toBe(1);
    await bus.publish(payout('po_churn', 'PENDING'));
    await vi.waitFor(() => expect(keeper.received).toHaveLength(1));
    await off();
    expect(await h.server().numSub(channel)).toBe(0);
    expect(bus.stats()).toMatchObject({ channels: 0, listeners: 0 });
  });

  it('drops and counts malformed messages, and delivers the valid ones around them', async () => {
    const malformed: string[] = [];
    const bus = await h.bus({ onMalformed: (channel) => malformed.push(channel) });
    const raw = await h.raw();
    const r = recorder();
    await bus.subscribe('po_m', r.listener);
    const channel = `${PREFIX}payout:po_m`;
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ id: 'po_m', status: 'EXPLODED' }));
    await raw.publish(channel, JSON.stringify(payout('po_other', 'SUCCESS')));
    await raw.publish(channel, JSON.stringify(payout('po_m', 'SUCCESS')));
    await vi.waitFor(() => expect(r.received).toEqual([payout('po_m', 'SUCCESS')]));
    expect(bus.stats().malformed).toBe(3);
    expect(malformed).toEqual([channel, channel, channel]);
  });

  it('unsubscribes every channel on close', async () => {
    const bus = await h.bus();
    await bus.subscribe('po_x', () => undefined);
    await bus.subscribe('po_y', () => undefined);
    await bus.close();
    expect(await h.server().numSub(`${PREFIX}payout:po_x`)).toBe(0);
    expect(await h.server().numSub(`${PREFIX}payout:po_y`)).toBe(0);
  });
});
