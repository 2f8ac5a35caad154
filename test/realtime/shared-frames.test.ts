import { describe, expect, it } from 'vitest';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString, type ExecutionResult } from 'graphql';
import { makeServer, type ServerOptions } from 'graphql-ws';
import { createSharedFrames } from '../../src/http/shared-frames.js';

/**
 * graphql-ws's own server, driven through a recording socket (a fake transport): the frames it sends
 * with the shared payloads must be byte for byte what it sends without them.
 */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({ name: 'Subscription', fields: { status: { type: GraphQLString } } }),
});

async function framesFor(results: ExecutionResult[], subscribers: number, shared: boolean, id = (s: number) => `sub-${s}`): Promise<string[][]> {
  const frames = createSharedFrames();
  const options: ServerOptions = {
    schema,
    // Every subscriber gets the same result objects, as with the shared execution.
    subscribe: () =>
      (async function* () {
        for (const r of results) yield r;
      })(),
    ...(shared ? { onNext: (_ctx, _id, _payload, _args, result) => frames.payload(result) } : {}),
  };
  const server = makeServer(options);
  const sent: string[][] = [];
  for (let s = 0; s < subscribers; s++) {
    const out: string[] = [];
    sent.push(out);
    let onMessage: ((data: string) => Promise<void>) | undefined;
    server.opened(
      {
        protocol: 'graphql-transport-ws',
        send: (message) => {
          out.push(frames.frame(message));
        },
        close: () => undefined,
        onMessage: (cb) => {
          onMessage = cb;
        },
      },
      {},
    );
    if (!onMessage) throw new Error('graphql-ws did not register a message handler');
    await onMessage(JSON.stringify({ type: 'connection_init' }));
    await onMessage(JSON.stringify({ id: id(s), type: 'subscribe', payload: { query: 'subscription { status }' } }));
  }
  return sent;
}

describe('shared subscription frames', () => {
  it('sends byte for byte the frames graphql-ws sends on its own, with data and with errors', async () => {
    const results: ExecutionResult[] = [
      { data: { status: 'PROCESSING "quoted" \u2028 ünïcode' } },
      { data: null, errors: [new GraphQLError('Unexpected error.', { path: ['status'], extensions: { code: 'INTERNAL' } })] },
      { data: { status: 'SUCCESS' }, extensions: { note: 'x' } },
    ];
    const own = await framesFor(results, 2, false);
    const shared = await framesFor(results, 2, true);
    expect(shared).toEqual(own);
    // The frames are the protocol's: a next per result, then complete.
    expect(shared[1]?.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(['connection_ack', 'next', 'next', 'next', 'complete']);
    expect(JSON.parse(shared[1]?.[2] ?? '')).toEqual({
      id: 'sub-1',
      type: 'next',
      payload: { data: null, errors: [{ message: 'Unexpected error.', path: ['status'], extensions: { code: 'INTERNAL' } }] },
    });
  });

  it('serialises a result once for every subscriber that receives it', async () => {
    let reads = 0;
    const data = {
      get status() {
        reads++;
        return 'SUCCESS';
      },
    };
    const shared = await framesFor([{ data }], 3, true);
    expect(reads).toBe(1);
    expect(shared.map((frames) => JSON.parse(frames[1] ?? '') as unknown)).toEqual([0, 1, 2].map((s) => ({ id: `sub-${s}`, type: 'next', payload: { data: { status: 'SUCCESS' } } })));

    reads = 0;
    await framesFor([{ data }], 3, false);
    expect(reads).toBe(3);
  });

  it('builds, for results written without graphql-ws, the very next frames graphql-ws sends', async () => {
    const results: ExecutionResult[] = [
      { data: { status: 'PROCESSING "quoted" \u2028 ünïcode </script>' } },
      { data: null, errors: [new GraphQLError('Unexpected error.', { path: ['status'], extensions: { code: 'INTERNAL' } })] },
      { data: { status: 'SUCCESS' }, extensions: { note: 'x' } },
    ];
    for (const id of ['1', 'sub "quoted" \u0000 é', '\u0000shared-payload']) {
      const own = (await framesFor(results, 1, false, () => id))[0] ?? [];
      const frames = createSharedFrames();
      const next = frames.nextFor(id);
      expect(results.map((r) => next(r))).toEqual(own.slice(1, 1 + results.length));
    }
  });

  it('puts the payload in its own place when the operation id or the data imitate the placeholder', async () => {
    const imitation = '\u0000shared-payload';
    const results: ExecutionResult[] = [{ data: { status: imitation } }, { data: { status: `"${imitation}"` } }];
    const shared = await framesFor(results, 1, true, () => imitation);
    expect(shared).toEqual(await framesFor(results, 1, false, () => imitation));
    expect(shared[0]?.slice(1, 3).map((f) => JSON.parse(f) as unknown)).toEqual([
      { id: imitation, type: 'next', payload: { data: { status: imitation } } },
      { id: imitation, type: 'next', payload: { data: { status: `"${imitation}"` } } },
    ]);
  });
});
