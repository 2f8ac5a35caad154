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
});
