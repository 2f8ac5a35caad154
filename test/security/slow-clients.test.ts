import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pay, startStack, type TestStack } from '../helpers/gateway.js';
import { until, wsClient, wsSubscribe } from '../helpers/subscribe.js';
import { MSISDN_PENDING, payVia, startSecureStack, type SecureStack } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { HTTP_REQUEST_TIMEOUT_MS: '600' } });
});
afterAll(async () => {
  await stack.close();
});

/** Sends `text` over a raw socket and resolves with everything the server wrote until it closed. */
function trickle(text: string): Promise<{ answer: string; closedAfterMs: number }> {
  const started = Date.now();
  const { port } = new URL(stack.gateway.url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (answer += c));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
    setTimeout(() => socket.destroy(new Error('the server kept the socket open')), 10_000).unref();
  });
}

describe('clients that send slowly or stop short (HTTP_REQUEST_TIMEOUT_MS)', () => {
  it('a body that stops short of its Content-Length gets 408 and the socket back within the timeout, not after 300 s', async () => {
    const head = `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n`;
    const { answer, closedAfterMs } = await trickle(`${head}{"query":`);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it('headers that never end get 408 too', async () => {
    const { answer, closedAfterMs } = await trickle('POST /graphql HTTP/1.1\r\nhost: x\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it('a live SSE stream is not cut by it (it bounds receiving the request, not the answer)', async () => {
    const token = await stack.token('slow-sse', 'payouts:write');
    const id = await pay(stack.gateway.url, token, 'slow-sse-1', '+237670000005');
    const res = await fetch(`${stack.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { status } }', variables: { id } }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('PROCESSING');
    // Twice the timeout later the stream is still there and gets the final.
    await new Promise((r) => setTimeout(r, 1_200));
    stack.sandbox.settle(id, 'SUCCESS');
    await readUntil('SUCCESS');
    await reader.cancel();
  });

  it('nor is a WebSocket subscription', async () => {
    const token = await stack.token('slow-ws', 'payouts:write');
    const id = await pay(stack.gateway.url, token, 'slow-ws-1', '+237670000005');
    const client = wsClient(stack.gateway.url, token);
    const sub = wsSubscribe(client, id);
    await until(() => sub.events.length === 1, 5_000, 'snapshot');
    await new Promise((r) => setTimeout(r, 1_200));
    stack.sandbox.settle(id, 'SUCCESS');
    expect(await sub.done).toBe('complete');
    expect(sub.events.map((e) => e.status)).toEqual(['PROCESSING', 'SUCCESS']);
    await client.dispose();
  });
});

describe('clients that leave while a subscription is being set up', () => {
  it('an SSE client gone before its snapshot was read leaves no live subscription behind (it used to last until its token expired)', async () => {
    const token = await stack.token('gone-sse', 'payouts:write');
    const id = await pay(stack.gateway.url, token, 'gone-sse-1', '+237670000005');
    const live = () => stack.gateway.metrics.sources.subscriptions();
    const store = stack.gateway.state.stores.payouts;
    const getMany = store.getMany.bind(store);
    // A slow snapshot read keeps the subscription in its setup while the client goes away.
    store.getMany = async (ids) => {
      await new Promise((r) => setTimeout(r, 400));
      return getMany(ids);
    };
    try {
      const leaving = new AbortController();
      const request = fetch(`${stack.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { status } }', variables: { id } }),
        signal: leaving.signal,
      }).catch(() => undefined);
      await until(() => live() === 1, 2_000, 'the subscription in its setup');
      leaving.abort();
      await request;
      await new Promise((r) => setTimeout(r, 800));
      expect(live()).toBe(0);
    } finally {
      store.getMany = getMany;
    }
  });
});

describe('a client that leaves during a request sent with a chunked body (the gateway reads it itself)', () => {
  let secure: SecureStack;
  beforeAll(async () => {
    secure = await startSecureStack({ sandbox: { webhookUrl: null } });
  });
  afterAll(async () => {
    await secure.close();
  });

  it('ends its subscription too (the request signal aborts there as well), and is not logged as a failed request', async () => {
    const token = await secure.token('gone-chunked', 'payouts:write');
    const id = await payVia(secure.url, token, 'gone-chunked-1');
    const gateway = secure.gateway;
    const live = () => gateway.metrics.sources.subscriptions();
    const store = gateway.state.stores.payouts;
    const getMany = store.getMany.bind(store);
    store.getMany = async (ids) => {
      await new Promise((r) => setTimeout(r, 400));
      return getMany(ids);
    };
    try {
      const { port } = new URL(secure.url);
      const req = httpRequest({ host: '127.0.0.1', port: Number(port), path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` } });
      req.on('error', () => undefined);
      // No Content-Length: a chunked body, which the gateway reads under its cap and hands to Yoga.
      req.end(JSON.stringify({ query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { status } }', variables: { id } }));
      await until(() => live() === 1, 2_000, 'the subscription in its setup');
      req.destroy();
      await new Promise((r) => setTimeout(r, 800));
      expect(live()).toBe(0);
      expect(secure.logs.records().filter((r) => r['msg'] === 'request handler failed')).toEqual([]);
    } finally {
      store.getMany = getMany;
    }
  });

  it('ends its subscription when it leaves after the stream started (it used to last until the payout ended or the token expired)', async () => {
    const token = await secure.token('gone-chunked-later', 'payouts:write');
    const gateway = secure.gateway;
    const live = () => gateway.metrics.sources.subscriptions();
    const before = live();
    const id = await payVia(secure.url, token, 'gone-chunked-later-1', MSISDN_PENDING);
    const { port } = new URL(secure.url);
    const body = JSON.stringify({ query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { status } }', variables: { id } });
    // Head and whole chunked body in one write, as a client that streams its body quickly sends them.
    const request = [
      'POST /graphql HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Content-Type: application/json',
      'Accept: text/event-stream',
      `Authorization: Bearer ${token}`,
      'Transfer-Encoding: chunked',
      '',
      `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ].join('\r\n');
    const streams = Array.from({ length: 3 }, () => {
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      socket.on('error', () => undefined);
      socket.write(request);
      const snapshot = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          if (/"status":"(PROCESSING|PENDING)"/.test(text)) resolve(text);
        });
      });
      return { socket, snapshot };
    });
    for (const s of streams) expect(await s.snapshot).toMatch(/^HTTP\/1\.1 200 /);
    expect(live()).toBe(before + 3);
    for (const s of streams) s.socket.destroy();
    await until(() => live() === before, 2_000, 'every subscription ended');
    expect(secure.logs.records().filter((r) => r['msg'] === 'request handler failed')).toEqual([]);
  });
});


describe('HTTP/1.1 pipelining: several requests queued on one socket the client then closes', () => {
  it('ends every subscription on the socket, not only the one being answered, and shutdown does not wait for them', async () => {
    const own = await startStack({ env: { SHUTDOWN_GRACE_MS: '8000' } });
    let closed = false;
    try {
      const token = await own.token('pipelined', 'payouts:write');
      const id = await pay(own.gateway.url, token, 'pipelined-1', MSISDN_PENDING);
      const live = () => own.gateway.metrics.sources.subscriptions();
      const before = live();
      const body = JSON.stringify({ query: 'subscription S($id: ID!) { payoutStatus(payoutId: $id) { status } }', variables: { id } });
      const one = [
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        'Accept: text/event-stream',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
      const { port } = new URL(own.gateway.url);
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      socket.on('error', () => undefined);
      // Three subscriptions in one write: Node answers them in turn, so the last two wait behind the
      // first's stream, which never ends while the payout is pending.
      socket.write(one + one + one);
      await until(() => live() === before + 3, 5_000, 'three live subscriptions');
      socket.destroy();
      await until(() => live() === before, 2_000, 'every pipelined subscription ended');

      // Nothing is left counted in flight: shutdown finishes at once instead of waiting out its grace.
      const stopping = Date.now();
      await own.close();
      closed = true;
      expect(Date.now() - stopping).toBeLessThan(3_000);
    } finally {
      if (!closed) await own.close();
    }
  }, 30_000);
});
