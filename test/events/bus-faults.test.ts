import { afterAll, describe, expect, it, vi } from 'vitest';
import { EventBusUnavailableError } from '../../src/events/errors.js';
import { PREFIX, payout, recorder, useBuses } from './harness.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);

describe('event bus while Redis fails (T31, T32)', () => {
  const h = useBuses('redis');

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('rejects publish and subscribe quickly while Redis is down, then resyncs and delivers again after a restart', async () => {
    const bus = await h.bus();
    const r = recorder();
    const resyncs: number[] = [];
    bus.onResync(() => resyncs.push(Date.now()));
    await bus.subscribe('po_k', r.listener);

    await h.server().kill();
    const started = Date.now();
    await expect(bus.publish(payout('po_k', 'SUCCESS'))).rejects.toBeInstanceOf(EventBusUnavailableError);
    await expect(bus.subscribe('po_other', () => undefined)).rejects.toBeInstanceOf(EventBusUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(bus.stats()).toMatchObject({ channels: 1, listeners: 1 });

    await h.server().restart();
    await vi.waitFor(() => expect(resyncs).toHaveLength(1), { timeout: 5_000, interval: 20 });
    // onResync fires only once the channel is subscribed again.
    expect(await h.server().numSub(`${PREFIX}payout:po_k`)).toBe(1);
    await vi.waitFor(() => bus.publish(payout('po_k', 'SUCCESS')), { timeout: 5_000, interval: 50 });
    await vi.waitFor(() => expect(r.received).toEqual([payout('po_k', 'SUCCESS')]));
    expect(bus.stats().resyncs).toBe(1);
  });

  it('recovers from a killed subscriber connection (CLIENT KILL TYPE pubsub): resync, then delivery', async () => {
    const bus = await h.bus();
    const r = recorder();
    let resynced = 0;
    bus.onResync(() => resynced++);
    await bus.subscribe('po_ck', r.listener);
    const admin = await h.raw();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await vi.waitFor(() => expect(resynced).toBe(1), { timeout: 5_000, interval: 20 });
    await bus.publish(payout('po_ck', 'FAILED'));
    await vi.waitFor(() => expect(r.received).toEqual([payout('po_ck', 'FAILED')]));
  });

  it('forgets a channel whose last listener left while Redis was down', async () => {
    const bus = await h.bus();
    let resynced = 0;
    bus.onResync(() => resynced++);
    const off = await bus.subscribe('po_gone', () => undefined);
    await bus.subscribe('po_stay', () => undefined);
    await h.server().kill();
    await off();
    await h.server().restart();
    await vi.waitFor(() => expect(resynced).toBe(1), { timeout: 5_000, interval: 20 });
    expect(await h.server().numSub(`${PREFIX}payout:po_gone`)).toBe(0);
    expect(await h.server().numSub(`${PREFIX}payout:po_stay`)).toBe(1);
    expect(bus.stats()).toMatchObject({ channels: 1, listeners: 1 });
  });

  it('subscribes again after an UNSUBSCRIBE that timed out on a hung Redis and ran once it resumed: the next listener is live', async () => {
    const bus = await h.bus();
    const channel = `${PREFIX}payout:po_hung`;
    const off = await bus.subscribe('po_hung', () => undefined);
    h.server().pause();
    try {
      await off(); // times out (the command timeout), swallowed
    } finally {
      h.server().resume();
    }
    await vi.waitFor(async () => expect(await h.server().numSub(channel)).toBe(0), { timeout: 5_000, interval: 20 });
    const r = recorder();
    await bus.subscribe('po_hung', r.listener);
    expect(await h.server().numSub(channel)).toBe(1);
    await bus.publish(payout('po_hung', 'SUCCESS'));
    await vi.waitFor(() => expect(r.received).toEqual([payout('po_hung', 'SUCCESS')]));
  });

  it('keeps resync listeners isolated from each other', async () => {
    const errors: unknown[] = [];
    const bus = await h.bus({ onResyncError: (err) => errors.push(err) });
    let good = 0;
    bus.onResync(() => {
      throw new Error('resync bug');
    });
    const stop = bus.onResync(() => good++);
    // CLIENT KILL TYPE pubsub only hits connections in subscriber mode.
    await bus.subscribe('po_iso', () => undefined);
    const admin = await h.raw();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await vi.waitFor(() => expect(good).toBe(1), { timeout: 5_000, interval: 20 });
    expect(errors).toHaveLength(1);
    stop();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await vi.waitFor(() => expect(bus.stats().resyncs).toBe(2), { timeout: 5_000, interval: 20 });
    expect(good).toBe(1);
  });
});
