import { describe, expect, it } from 'vitest';
import type { PayoutHub } from '../../src/realtime/hub.js';
import { payoutStatusStream } from '../../src/realtime/status-stream.js';
import type { Payout } from '../../src/zopay/types.js';

/** A hub whose bus subscription takes `ms` to go live (the first subscriber of a payout waits for it). */
function slowHub(ms: number): PayoutHub {
  const watch = () => new Promise<() => void>((resolve) => setTimeout(() => resolve(() => undefined), ms));
  return { watch } as unknown as PayoutHub;
}

describe('payout status stream', () => {
  it('failed while its subscription was going live (shutdown, token expiry): ends with the error, never a completion', async () => {
    let ended = 0;
    const stream = payoutStatusStream({
      hub: slowHub(20),
      payoutId: 'po-stream-1',
      snapshot: () => Promise.resolve<Payout>({ id: 'po-stream-1', status: 'PROCESSING', rawStatus: 'PROCESSING', source: 'get' }),
      onMissing: () => new Error('missing'),
      onEnd: () => ended++,
    });
    const first = stream.next();
    stream.fail(new Error('This instance is shutting down; subscribe again.'));
    await expect(first).rejects.toThrow('shutting down');
    expect(ended).toBe(1);
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });

  /** A hub that goes live at once and lets the test offer events; counts live watches. */
  function handHub() {
    const offers: ((p: Payout) => void)[] = [];
    let live = 0;
    const hub = {
      watch: (_id: string, offer: (p: Payout) => void) => {
        offers.push(offer);
        live++;
        return Promise.resolve(() => void live--);
      },
    } as unknown as PayoutHub;
    return { hub, offer: (p: Payout) => offers.forEach((o) => o(p)), live: () => live };
  }
  const at = (status: Payout['status']): Payout => ({ id: 'po-ready', status, rawStatus: status, source: 'webhook' });

  it('ready() starts it before the first pull: the snapshot comes first, then what arrived meanwhile', async () => {
    const { hub, offer, live } = handHub();
    const stream = payoutStatusStream({ hub, payoutId: 'po-ready', snapshot: () => Promise.resolve(at('PENDING')), onMissing: () => new Error('missing') });
    await stream.ready();
    expect(live()).toBe(1);
    offer(at('PROCESSING'));
    offer(at('SUCCESS'));
    expect(await stream.next()).toEqual({ done: false, value: at('PENDING') });
    expect(await stream.next()).toEqual({ done: false, value: at('PROCESSING') });
    expect(await stream.next()).toEqual({ done: false, value: at('SUCCESS') });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(live()).toBe(0);
  });

  it('ready() rejects with the missing error when there is no such payout, and the stream ends watching nothing', async () => {
    const { hub, live } = handHub();
    let ended = 0;
    let setups = 0;
    const stream = payoutStatusStream({
      hub,
      payoutId: 'po-ready',
      snapshot: () => Promise.resolve(undefined),
      onMissing: () => new Error('no such payout'),
      onEnd: () => ended++,
      onSetupDone: () => setups++,
    });
    await expect(stream.ready()).rejects.toThrow('no such payout');
    expect({ ended, live: live() }).toEqual({ ended: 1, live: 0 });
    expect(setups).toBeGreaterThan(0);
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
