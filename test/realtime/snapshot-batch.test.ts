import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ env: { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '50' } });
  token = await stack.token('snapshot-batch');
});
afterAll(() => stack.close());

describe('subscription snapshots', () => {
  it('subscriptions starting together share their snapshot store reads and still stream every event', async () => {
    const id = await pay(stack.gateway.url, token, 'snapshot-batch-1', '+237670000005'); // stays PROCESSING
    const status = stack.gateway.state.stores.payouts;
    const [get, getMany] = [status.get.bind(status), status.getMany.bind(status)];
    let reads = 0;
    status.get = (payoutId) => {
      reads++;
      return get(payoutId);
    };
    status.getMany = (ids) => {
      reads++;
      return getMany(ids);
    };

    const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const frames: { id?: string; type: string; payload?: { data?: { payoutStatus?: { status: string } } } }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as (typeof frames)[number]));
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(cond()).toBe(true);
    };
    await until(() => frames.some((f) => f.type === 'connection_ack'));

    const query = 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status } }';
    const n = 40;
    // One write: the server reads the 40 subscribe frames together, as after a reconnect.
    const batch = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query, variables: { id } } }));
    socket.send(batch[0] as string);
    for (const f of batch.slice(1)) socket.send(f);
    const snapshots = () => frames.filter((f) => f.type === 'next' && f.payload?.data?.payoutStatus?.status === 'PROCESSING').length;
    await until(() => snapshots() === n);
    expect(reads).toBeLessThan(n / 4);

    stack.sandbox.settle(id, 'SUCCESS');
    await until(() => frames.filter((f) => f.type === 'complete').length === n);
    const finals = frames.filter((f) => f.type === 'next' && f.payload?.data?.payoutStatus?.status === 'SUCCESS');
    expect(new Set(finals.map((f) => f.id)).size).toBe(n);
    socket.close();
  });
});
