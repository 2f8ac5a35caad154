/**
 * An unexpected error reaches the client as INTERNAL_SERVER_ERROR, "Unexpected error.", and the request id
 * the README tells it to report. That id must lead somewhere: the gateway logs the error under it (name,
 * message with phone numbers masked, field path), and the operation's log line names the code the client
 * got. Errors meant for the client are not logged as failures.
 */
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { GraphQLContext } from '../../src/context.js';
import { buildYoga } from '../../src/http/yoga.js';
import { badUserInputError } from '../../src/services/infra-errors.js';
import { createLogger } from '../../src/lib/logger.js';
import { LogCapture } from './support.js';

const schema = new GraphQLSchema({
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      brokenFeed: {
        type: GraphQLString,
        subscribe: () => {
          throw new TypeError('the feed of +237670000001 broke');
        },
      },
    },
  }),
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      broken: {
        type: GraphQLString,
        resolve: () => {
          throw new TypeError('cannot read the recipient +237670000001 (670000002, 237670000003) of undefined');
        },
      },
      refused: {
        type: GraphQLString,
        resolve: () => {
          throw badUserInputError('Bad input.', [{ path: 'x', message: 'no' }]);
        },
      },
    },
  }),
});

function stack() {
  const logs = new LogCapture();
  const yoga = buildYoga({
    schema,
    log: createLogger({ level: 'info', destination: logs }),
    graphiql: false,
    introspection: false,
    production: true,
    limits: { maxDepth: 10, maxAliases: 10, maxCost: 1000, maxTokens: 1000, maxDirectives: 10 },
    corsOrigins: [],
    context: async ({ request }) => ({ viewer: null, requestId: request.headers.get('x-request-id') ?? 'none' }) as unknown as GraphQLContext,
  });
  const ask = async (query: string, requestId: string) => {
    const res = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
  };
  return { logs, ask, yoga };
}

describe('an unexpected error', () => {
  it('in a subscription is masked too, and logged at error', async () => {
    const { logs, yoga } = stack();
    const res = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { brokenFeed }' }),
    });
    const text = await res.text();
    expect(text).toContain('"code":"INTERNAL_SERVER_ERROR"');
    expect(text).not.toContain('feed of');
    expect(logs.records().filter((r) => r['level'] === 50).map((r) => [r['msg'], r['error']])).toEqual([
      ['unexpected error in a subscription; the client was told INTERNAL_SERVER_ERROR', { name: 'TypeError', message: 'the feed of +2376*****001 broke' }],
    ]);
  });

  it('is masked for the client and logged under its request id, with the phone number masked', async () => {
    const { logs, ask } = stack();
    const answer = await ask('query Broken { broken }', 'req-broken-1');
    expect(answer.errors).toEqual([{ message: 'Unexpected error.', locations: [{ line: 1, column: 16 }], path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    const records = logs.records();
    expect(records.filter((r) => r['level'] === 50).map((r) => ({ msg: r['msg'], requestId: r['requestId'], path: r['path'], error: r['error'] }))).toEqual([
      {
        msg: 'unexpected error; the client was told INTERNAL_SERVER_ERROR',
        requestId: 'req-broken-1',
        path: 'broken',
        error: { name: 'TypeError', message: 'cannot read the recipient +2376*****001 (6*****002, 2376*****003) of undefined' },
      },
    ]);
    expect(records.find((r) => r['msg'] === 'graphql operation')).toMatchObject({ requestId: 'req-broken-1', operation: 'Broken', errors: ['INTERNAL_SERVER_ERROR'] });
    expect(logs.text()).not.toMatch(/67000000[123]/);
  });

  it('an error meant for the client is not logged as a failure, and its operation line names its code', async () => {
    const { logs, ask } = stack();
    const answer = await ask('{ refused }', 'req-refused-1');
    expect(answer.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(logs.records().filter((r) => Number(r['level']) >= 50)).toEqual([]);
    expect(logs.records().find((r) => r['msg'] === 'graphql operation')).toMatchObject({ requestId: 'req-refused-1', errors: ['BAD_USER_INPUT'] });
  });
});
