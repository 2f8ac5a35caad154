import { describe, expect, it } from 'vitest';
import type { Payout } from '../../src/zopay/types.js';
import { quietHub } from '../helpers/hub.js';

const payout = (status: Payout['status']): Payout => ({ id: 'po-hub-1', status, rawStatus: status, source: 'webhook' });

describe('PayoutHub fan-out', () => {
  it('spreads a large fan-out over event-loop turns, every listener gets every event, in order', async () => {
    const hub = quietHub();
    const seen: string[][] = Array.from({ length: 1_234 }, () => []);
    await Promise.all(seen.map((events, i) => hub.watch('po-hub-1', (p) => events.push(`${p.status}@${i}`))));

    hub.deliver(payout('PROCESSING'));
    hub.deliver(payout('SUCCESS'));
    // The first chunk is served at once, the rest on later turns.
    const servedNow = seen.filter((e) => e.length > 0).length;
    expect(servedNow).toBeGreaterThan(0);
    expect(servedNow).toBeLessThan(seen.length);

    await new Promise((resolve) => setTimeout(resolve, 50));
    seen.forEach((events, i) => expect(events).toEqual([`PROCESSING@${i}`, `SUCCESS@${i}`]));
    await hub.close();
  });
});
