import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ env: { WS_KEEPALIVE_MS: '150' } });
  token = await stack.token('keep-alive-client');
});
afterAll(() => stack.close());

/** A graphql-ws client on a raw socket; `answerPings: false` plays a half-open peer. */
async function connect(answerPings: boolean): Promise<{ socket: WebSocket; pings: () => number; closed: Promise<number> }> {
  const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { autoPong: answerPings });
  let pings = 0;
  socket.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve();
    });
    socket.once('error', reject);
  });
  return { socket, pings: () => pings, closed };
}

describe('graphql-ws keep-alive', () => {
  it('pings every client and disconnects the ones that stop answering, keeping the others', async () => {
    const healthy = await connect(true);
    const silent = await connect(false);
    // 1006: the server terminated the TCP connection without a closing handshake.
    expect(await silent.closed).toBe(1006);
    expect(silent.pings()).toBeGreaterThanOrEqual(1);
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    expect(healthy.pings()).toBeGreaterThanOrEqual(2);
    healthy.socket.close();
    await healthy.closed;
  });
});
