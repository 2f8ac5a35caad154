import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';
import { until } from '../helpers/subscribe.js';
import { Semaphore } from '../../src/lib/semaphore.js';

describe('Semaphore', () => {
  it('hands out at most `capacity` permits, in arrival order, and counts a double release once', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([sem.acquire(), sem.acquire()]);
    const waiters = [1, 2, 3].map((n) => sem.acquire().then((release) => (order.push(n), release)));
    await Promise.resolve();
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(3);
    releases[0]?.();
    releases[0]?.(); // again: no second permit
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1]);
    releases[1]?.();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2]);
    for (const release of await Promise.all(waiters.slice(0, 2))) release();
    const last = await waiters[2];
    expect(order).toEqual([1, 2, 3]);
    last?.();
    expect(sem.inUse).toBe(0);
    expect(sem.waiting).toBe(0);
  });
});

type Frame = { id?: string; type: string; payload?: unknown };

describe('subscription setups in flight', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startStack({ env: { SUBSCRIBE_SETUPS_IN_FLIGHT: '4', WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '100' } });
    token = await stack.token('setup-slots');
  });
  afterAll(() => stack.close());

  const connect = async (): Promise<{ socket: WebSocket; frames: Frame[] }> => {
    const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const frames: Frame[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await until(() => frames.some((f) => f.type === 'connection_ack'), 10_000, 'ack');
    return { socket, frames };
  };
  const subscribe = (socket: WebSocket, id: string, payoutId: string) =>
    socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }', variables: { id: payoutId } } }));

  it('sets up a burst a few at a time, and every subscriber still gets its snapshot', async () => {
    const payoutId = await pay(stack.gateway.url, token, 'setup-slots-1', '+237670000005'); // stays PROCESSING
    const owners = stack.gateway.state.stores.owners;
    const getOwner = owners.getOwner.bind(owners);
    let inFlight = 0;
    let most = 0;
    owners.getOwner = async (id) => {
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return await getOwner(id);
      } finally {
        inFlight--;
      }
    };
    try {
      const { socket, frames } = await connect();
      const n = 60;
      for (let i = 0; i < n; i++) subscribe(socket, `s${i}`, payoutId);
      await until(() => frames.filter((f) => f.type === 'next').length === n, 20_000, 'snapshots');
      expect(most).toBeLessThanOrEqual(4);
      expect(most).toBeGreaterThan(1);
      expect(frames.filter((f) => f.type === 'error')).toEqual([]);
      socket.close();
    } finally {
      owners.getOwner = getOwner;
    }
  });

  it('counts frames waiting for a slot against the per-connection cap (100 here)', async () => {
    const payoutId = await pay(stack.gateway.url, token, 'setup-slots-3', '+237670000005');
    const owners = stack.gateway.state.stores.owners;
    const getOwner = owners.getOwner.bind(owners);
    // Slow owner reads keep the 4 slots busy, so most frames are still waiting when the rest arrive.
    owners.getOwner = async (id) => {
      await new Promise((r) => setTimeout(r, 20));
      return getOwner(id);
    };
    try {
      const { socket, frames } = await connect();
      for (let i = 0; i < 130; i++) subscribe(socket, `c${i}`, payoutId);
      const limited = () => frames.filter((f) => f.type === 'error' && JSON.stringify(f.payload).includes('RATE_LIMITED'));
      await until(() => frames.filter((f) => f.type === 'next').length === 100 && limited().length === 30, 20_000, '100 snapshots and 30 refusals');
      socket.close();
    } finally {
      owners.getOwner = getOwner;
    }
  });

  it('gives the slot back when a setup fails or ends early', async () => {
    const payoutId = await pay(stack.gateway.url, token, 'setup-slots-2', '+237670000005');
    const { socket, frames } = await connect();
    // Missing payouts (NOT_FOUND), then subscriptions completed by the client right away: more than the
    // 4 slots in all, so a slot that leaked would leave the last subscriptions without a snapshot.
    for (let i = 0; i < 10; i++) subscribe(socket, `missing${i}`, `po_missing_${i}`);
    // Frames refused before execution (an invalid document) and plain queries over the socket take a
    // slot too (graphql-ws takes it before any GraphQL work) and must give it back.
    for (let i = 0; i < 6; i++) socket.send(JSON.stringify({ id: `invalid${i}`, type: 'subscribe', payload: { query: 'subscription { nope }' } }));
    for (let i = 0; i < 6; i++) socket.send(JSON.stringify({ id: `query${i}`, type: 'subscribe', payload: { query: '{ __typename }' } }));
    for (let i = 0; i < 10; i++) {
      subscribe(socket, `early${i}`, payoutId);
      socket.send(JSON.stringify({ id: `early${i}`, type: 'complete' }));
    }
    // A resolver error reaches the client as a `next` frame with errors, then `complete`.
    const notFound = () => frames.filter((f) => f.type === 'next' && f.id?.startsWith('missing') && JSON.stringify(f.payload).includes('"NOT_FOUND"'));
    await until(() => notFound().length === 10, 10_000, 'NOT_FOUND errors');
    for (let i = 0; i < 8; i++) subscribe(socket, `late${i}`, payoutId);
    await until(() => frames.filter((f) => f.type === 'next' && f.id?.startsWith('late')).length === 8, 5_000, 'late snapshots (a leaked slot only returns after 10 s)');
    expect(frames.filter((f) => f.type === 'error').map((f) => f.id?.replace(/\d+$/, ''))).toEqual(Array(6).fill('invalid'));
    expect(frames.filter((f) => f.type === 'next' && f.id?.startsWith('query'))).toHaveLength(6);
    socket.close();
  });
});
