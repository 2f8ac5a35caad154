/**
 * The floors of the execute scenario: how fast executeDisbursement can be with a GraphQL layer in front
 * and nothing else. Each floor does exactly the bare baseline's upstream work (createExecutePayer: sign,
 * one undici request to the stub, map the reply) behind a minimal schema with the same mutation, argument
 * shape and result union as the gateway's, and no auth, no Redis, no rate limit, no idempotency record,
 * no plugins. They are references, not candidates: they say how much of the baseline's throughput a
 * GraphQL server can keep at all on this machine, so the gateway's ratio can be read against them.
 *
 * - `FLOOR=yoga`: stock graphql-yoga (the gateway's version) with only its body-size stream turned off
 *   (`maxRequestBodySize: false`, as in the gateway), landing page, GraphiQL and logging off.
 * - `FLOOR=graphql-js`: node:http, JSON.parse, parse and validate once per distinct document, graphql-js
 *   `execute`, JSON.stringify: the hand-written handler.
 *
 * Run as a child by bench/run.ts, with the gateway's NODE_ENV and node flags (FLOOR, BASELINE_UPSTREAM_URL, ZOPAY_API_KEY, ZOPAY_API_SECRET,
 * ZOPAY_ORIGIN, BASELINE_SUB; PORT optional).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { execute, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { announceReady, exitWithParent, requiredEnv } from './lib/child.js';
import { closeServer, listen, readBody, sendJson, serve } from './lib/http-server.js';
import { createExecutePayer, type ExecuteRequest, type PayoutAnswer } from './baseline.js';
import { FLOOR_PATH, FLOORS } from './lib/floor-kinds.js';

/** The gateway's executeDisbursement shape, cut down to what the bench's mutation selects. */
const TYPE_DEFS = /* GraphQL */ `
  interface Error {
    code: String!
    message: String!
  }
  type Payout {
    id: ID!
    status: String!
    isFinal: Boolean!
    correlationId: String
  }
  type UpstreamError implements Error {
    code: String!
    message: String!
  }
  union ExecuteDisbursementResult = Payout | UpstreamError
  input RecipientInput {
    msisdn: String!
  }
  input ExecuteDisbursementInput {
    quoteId: ID!
    idempotencyKey: String!
    recipient: RecipientInput!
  }
  type Query {
    ok: Boolean
  }
  type Mutation {
    executeDisbursement(input: ExecuteDisbursementInput!): ExecuteDisbursementResult!
  }
`;

interface ExecuteArgs {
  input: { quoteId: string; idempotencyKey: string; recipient: { msisdn: string } };
}

export function floorSchema(pay: (input: ExecuteRequest) => Promise<PayoutAnswer>): GraphQLSchema {
  return createSchema({
    typeDefs: TYPE_DEFS,
    resolvers: {
      ExecuteDisbursementResult: { __resolveType: (value: { __typename: string }) => value.__typename },
      Mutation: {
        executeDisbursement: (_root: unknown, { input }: ExecuteArgs) =>
          pay({ quoteId: input.quoteId, idempotencyKey: input.idempotencyKey, msisdn: input.recipient.msisdn }),
      },
    },
  });
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** The hand-written handler: one POST shape (JSON), documents parsed and validated once. */
function graphqlJsHandler(schema: GraphQLSchema): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  return async (req, res) => {
    if (req.method !== 'POST' || req.url !== FLOOR_PATH) return sendJson(res, 404, { errors: [{ message: 'not found' }] });
    let body: GraphQLBody;
    try {
      body = JSON.parse((await readBody(req, 100_000)).toString('utf8')) as GraphQLBody;
    } catch {
      return sendJson(res, 400, { errors: [{ message: 'body is not JSON' }] });
    }
    if (typeof body.query !== 'string') return sendJson(res, 400, { errors: [{ message: 'query must be a string' }] });
    let document = documents.get(body.query);
    if (!document) {
      try {
        const parsed = parse(body.query);
        const errors = validate(schema, parsed);
        document = errors.length > 0 ? errors : parsed;
      } catch (err) {
        document = [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
      }
      documents.set(body.query, document);
    }
    if (Array.isArray(document)) return sendJson(res, 400, { errors: document });
    const result = await execute({
      schema,
      document: document as DocumentNode,
      variableValues: (body.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
    });
    sendJson(res, 200, result);
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const floor = requiredEnv('FLOOR');
  if (!(FLOORS as readonly string[]).includes(floor)) throw new Error(`FLOOR must be one of ${FLOORS.join(', ')}`);
  const payer = createExecutePayer({
    upstreamUrl: requiredEnv('BASELINE_UPSTREAM_URL'),
    credentials: { apiKey: requiredEnv('ZOPAY_API_KEY'), apiSecret: requiredEnv('ZOPAY_API_SECRET'), origin: requiredEnv('ZOPAY_ORIGIN') },
    sub: requiredEnv('BASELINE_SUB'),
  });
  const schema = floorSchema((input) => payer.pay(input));
  const yoga = createYoga({ schema, graphqlEndpoint: FLOOR_PATH, maxRequestBodySize: false, landingPage: false, graphiql: false, logging: false, batching: false });
  const server = floor === 'yoga' ? serve(async (req, res) => yoga.requestListener(req, res)) : serve(graphqlJsHandler(schema));
  const url = await listen(server, Number(process.env['PORT'] ?? 0), '127.0.0.1');
  exitWithParent(async () => {
    await closeServer(server);
    await payer.close();
  });
  announceReady(url);
}
