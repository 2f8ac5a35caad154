/**
 * The bare graphql-ws server of the `heap` scenario: graphql-ws's `useServer` on a `ws` server with a
 * tiny graphql-js schema and nothing else (no Yoga, no envelop, no auth, no Redis). `payoutStatus`
 * yields one PROCESSING snapshot and then waits until the client leaves, like an idle gateway
 * subscription. Its heap per idle subscriber is the floor the gateway's is compared with.
 *
 * Answers `heap` over IPC (memory after forced GCs; started with --expose-gc). Run as a child by
 * bench/run.ts (PORT optional).
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { GraphQLBoolean, GraphQLID, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { announceReady, answerQuestions, exitWithParent, gcStatsHandlers, heapAfterGc } from './lib/child.js';
import { closeServer, listen } from './lib/http-server.js';
import { profilerHandlers } from './lib/profiler.js';
import { WS_PATH, processingFields, type PayoutStatusFields } from './lib/ws-protocol.js';

/** First value at once, then nothing until `return()` (the client completed or went away). */
function firstThenIdle<T>(first: T): AsyncIterableIterator<T> {
  let sent = false;
  let done = false;
  let release: ((r: IteratorResult<T>) => void) | undefined;
  const end = (): IteratorResult<T> => ({ done: true, value: undefined });
  const it: AsyncIterableIterator<T> = {
    next: () => {
      if (done) return Promise.resolve(end());
      if (!sent) {
        sent = true;
        return Promise.resolve({ done: false, value: first });
      }
      return new Promise((resolve) => (release = resolve));
    },
    return: () => {
      done = true;
      release?.(end());
      release = undefined;
      return Promise.resolve(end());
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

export function bareSchema(): GraphQLSchema {
  const Payout = new GraphQLObjectType<PayoutStatusFields>({
    name: 'Payout',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      status: { type: new GraphQLNonNull(GraphQLString) },
      isFinal: { type: new GraphQLNonNull(GraphQLBoolean) },
      amount: { type: GraphQLString },
      currency: { type: GraphQLString },
      completedAt: { type: GraphQLString },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        payoutStatus: {
          type: new GraphQLNonNull(Payout),
          args: { payoutId: { type: new GraphQLNonNull(GraphQLID) } },
          subscribe: (_root: unknown, args: { payoutId: string }) => firstThenIdle(processingFields(args.payoutId)),
          resolve: (p: unknown) => p,
        },
      },
    }),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: WS_PATH });
  const disposable = useServer({ schema: bareSchema() }, wss);
  const url = await listen(server, Number(process.env['PORT'] ?? 0), '127.0.0.1');
  exitWithParent(async () => {
    await disposable.dispose();
    await closeServer(server);
  });
  answerQuestions({ heap: () => heapAfterGc(), ...gcStatsHandlers(), ...profilerHandlers() });
  announceReady(url);
}
