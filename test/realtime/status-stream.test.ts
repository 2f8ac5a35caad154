import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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

describe('T34: subscribe first, then read the snapshot', () => {
  it('a final status published at any moment of the setup (after the snapshot was read but before the subscription went live, say) still reaches the subscriber, once, and nothing goes back', async () => {
    const at = (status: Payout['status']): Payout => ({ id: 'po-t34', status, rawStatus: status, source: 'webhook' });
    const rank = { PENDING: 0, PROCESSING: 1, SUCCESS: 2 } as Record<string, number>;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        // The store and the bus, as the stream sees them: a read returns what was stored when it was
        // made (its answer comes later), and an event reaches only the watchers live when it is published.
        let stored: Payout['status'] = 'PROCESSING';
        const live: ((p: Payout) => void)[] = [];
        const hub = {
          watch: (_id: string, offer: (p: Payout) => void) =>
            s.schedule(Promise.resolve(), 'SUBSCRIBE live').then(() => {
              live.push(offer);
              return () => undefined;
            }),
        } as unknown as PayoutHub;
        void s.schedule(Promise.resolve(), 'webhook: SUCCESS stored and published').then(() => {
          stored = 'SUCCESS';
          for (const offer of live) offer(at('SUCCESS'));
        });
        const stream = payoutStatusStream({
          hub,
          payoutId: 'po-t34',
          snapshot: () => {
            const seen = stored;
            return s.schedule(Promise.resolve(at(seen)), `snapshot read (${seen})`);
          },
          onMissing: () => new Error('missing'),
        });
        const seen: string[] = [];
        let done = false;
        void (async () => {
          for (let r = await stream.next(); !r.done; r = await stream.next()) seen.push(r.value.status);
          done = true;
        })();
        // Run every scheduled step, in the scheduler's order, until none is left (a step may schedule the
        // next only after a few promise turns), then give the consumer its turn.
        for (let round = 0; round < 10 && !done; round++) {
          await s.waitAll();
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        expect(done).toBe(true);
        expect(seen.at(-1)).toBe('SUCCESS');
        expect(seen.filter((x) => x === 'SUCCESS')).toHaveLength(1);
        expect(seen.map((x) => rank[x] ?? -1)).toEqual([...seen.map((x) => rank[x] ?? -1)].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});
