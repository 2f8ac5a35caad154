import { NoSchemaIntrospectionCustomRule, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from '../lib/logger.js';
import type { GraphQLContext } from '../context.js';
import { maskError } from './mask-error.js';
import { EXAMPLE_OPERATIONS } from './graphiql.js';

export interface YogaOptions {
  schema: GraphQLSchema;
  log: Logger;
  graphiql: boolean;
  introspection: boolean;
  /** Pre-filled Authorization header in GraphiQL (development only). */
  devToken?: string;
  /** Builds the per-operation context from the server context (HTTP request or WebSocket). */
  context: (server: ServerContext) => Promise<GraphQLContext>;
  plugins?: Plugin[];
}

/** What reaches the context factory: an HTTP request, or a WebSocket operation's caller. */
export interface ServerContext {
  request: Request;
  /** Set by the WebSocket transport after checking connectionParams. */
  wsViewer?: GraphQLContext['viewer'];
}

export type GatewayYoga = YogaServerInstance<ServerContext, GraphQLContext>;

export function buildYoga(opts: YogaOptions): GatewayYoga {
  const plugins: Plugin[] = [...(opts.plugins ?? [])];
  if (!opts.introspection) {
    plugins.push({
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    });
  }
  const headers = opts.devToken ? JSON.stringify({ Authorization: `Bearer ${opts.devToken}` }) : '{}';
  return createYoga<ServerContext, GraphQLContext>({
    schema: opts.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    batching: false,
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
    context: ({ request, wsViewer }) => opts.context({ request, ...(wsViewer !== undefined ? { wsViewer } : {}) }),
    graphiql: opts.graphiql
      ? {
          title: 'zopay-gateway',
          defaultEditorToolsVisibility: 'variables',
          defaultTabs: EXAMPLE_OPERATIONS.map((op) => ({ query: op.query, variables: JSON.stringify(op.variables, null, 2), headers })),
          headers,
        }
      : false,
    logging: {
      debug: (...args: unknown[]) => opts.log.debug({ yoga: args.map(String).join(' ') }),
      info: (...args: unknown[]) => opts.log.info({ yoga: args.map(String).join(' ') }),
      warn: (...args: unknown[]) => opts.log.warn({ yoga: args.map(String).join(' ') }),
      error: (...args: unknown[]) => opts.log.error({ yoga: args.map((a) => (a instanceof Error ? a.name : String(a))).join(' ') }),
    },
    plugins,
  });
}
