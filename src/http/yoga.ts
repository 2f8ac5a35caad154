import type { IncomingMessage } from 'node:http';
import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { OneMoneyMutationRule } from './money-rule.js';
import { SubscriptionRootDirectivesRule } from './subscription-rule.js';
import { renderLocalGraphiQL } from './graphiql-assets.js';
import type { Logger } from '../lib/logger.js';
import { maskEveryPhoneForm } from '../lib/msisdn.js';
import type { GraphQLContext } from '../context.js';
import { createSharedSubscribe, isAsyncIterable, type SubscriptionEventHook } from '../realtime/shared-execution.js';
import { createMaskError } from './mask-error.js';
import { EXAMPLE_DOCUMENT } from './graphiql.js';

export interface YogaOptions {
  schema: GraphQLSchema;
  log: Logger;
  graphiql: boolean;
  introspection: boolean;
  /** Production: no field suggestions, no limits in messages. */
  production: boolean;
  limits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number; maxDirectives: number };
  /** Browser origins allowed by CORS; empty = no cross-origin browser access. */
  corsOrigins: readonly string[];
  /** Pre-filled Authorization header in GraphiQL (development only). */
  devToken?: string;
  /** Builds the per-operation context from the server context (HTTP request or WebSocket). */
  context: (server: ServerContext) => Promise<GraphQLContext>;
  plugins?: Plugin[];
  /** Per subscriber per event: whether its result was shared with an earlier subscriber (metrics). */
  onSubscriptionEvent?: SubscriptionEventHook;
}

/** What reaches the context factory: an HTTP request, or a WebSocket operation's caller. */
export interface ServerContext {
  request: Request;
  /** The node request (HTTP only): the app keeps its request id. */
  req?: IncomingMessage;
  /** Set by the WebSocket transport after checking connectionParams. */
  wsViewer?: GraphQLContext['viewer'];
}

export type GatewayYoga = YogaServerInstance<ServerContext, GraphQLContext>;

/** Where GraphQL is served: HTTP (POST, GET, SSE) and graphql-ws alike. */
export const GRAPHQL_PATH = '/graphql';

export function buildYoga(opts: YogaOptions): GatewayYoga {
  const exposeLimits = !opts.production;
  const mask = createMaskError(opts.production);
  const allowedOrigins = new Set(opts.corsOrigins);
  const sharedSubscribe = createSharedSubscribe({
    ...(opts.onSubscriptionEvent ? { onEvent: opts.onSubscriptionEvent } : {}),
    maskError: (error) => {
      const masked = mask(error, 'Unexpected error.');
      // Once per subscription start or per event and selection (a shared result), not per subscriber.
      if (isInternal(masked)) logInternal(opts.log, error, masked, {}, 'unexpected error in a subscription; the client was told INTERNAL_SERVER_ERROR');
      return masked;
    },
  });
  const plugins: Plugin[] = [
    // Request limits run at parse/validation time, before any resolver (and so before any upstream call).
    EnvelopArmorPlugin({
      // Introspection is governed by the introspection switch, not by the query limits.
      maxDepth: { n: opts.limits.maxDepth, exposeLimits, flattenFragments: true, ignoreIntrospection: true },
      maxAliases: { n: opts.limits.maxAliases, exposeLimits },
      costLimit: { maxCost: opts.limits.maxCost, exposeLimits, ignoreIntrospection: true },
      maxTokens: { n: opts.limits.maxTokens, exposeLimits },
      maxDirectives: { n: opts.limits.maxDirectives, exposeLimits },
      blockFieldSuggestion: { enabled: opts.production },
    }),
    {
      // A method GraphQL does not serve is a 405 whatever its headers: the CSRF check below would
      // otherwise answer 403 to a DELETE or a PUT sent without a content type. (Yoga's own method check,
      // with the same answer, comes after the CSRF check.)
      onRequestParse({ request }) {
        if (request.method === 'GET' || request.method === 'POST') return;
        throw createGraphQLError('GraphQL only supports GET and POST requests.', {
          extensions: { http: { status: 405, headers: { Allow: 'GET, POST' } }, code: 'BAD_REQUEST' },
        });
      },
    },
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] }),
    {
      onValidate({ addValidationRule }) {
        addValidationRule(OneMoneyMutationRule);
        addValidationRule(SubscriptionRootDirectivesRule);
        if (!opts.introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
        // Validation errors bypass Yoga's masking: give them the same codes and clean-up as the rest.
        return ({ result, setResult }) => {
          if (result.length > 0) setResult(result.map((e) => mask(e, 'Unexpected error.') as GraphQLError));
        };
      },
    },
    {
      // One line per operation: request id, name and outcome; never variables (they hold MSISDNs).
      onExecute({ args }) {
        const started = performance.now();
        const ctx = args.contextValue as unknown as GraphQLContext;
        return {
          onExecuteDone({ result, setResult }) {
            // An execute answered from its key's record says so (attack case T4): the client did not
            // pay again, whatever it sees in the payout (which shows the status as it is now).
            if (ctx.idempotentReplay && !isAsyncIterable(result)) setResult({ ...result, extensions: { ...result.extensions, idempotentReplay: true } });
            const errors = 'errors' in result ? (result.errors ?? []) : [];
            // The codes the client gets (masking runs later, on the way out).
            const codes = errors.map((e) => {
              const masked = mask(e, 'Unexpected error.');
              // The client only sees "Unexpected error." and its request id: this line is where that id leads.
              if (isInternal(masked)) logInternal(opts.log, e, masked, { requestId: ctx.requestId }, 'unexpected error; the client was told INTERNAL_SERVER_ERROR');
              return masked instanceof GraphQLError ? masked.extensions['code'] : undefined;
            });
            opts.log.info(
              {
                requestId: ctx.requestId,
                // The name the document gives its operation when the client sent no operationName (as
                // the metrics do), cut to 64 characters and masked: it is the client's text, and may
                // hold a phone number in any form.
                operation: operationNameForLog(args.operationName ?? getOperationAST(args.document, undefined)?.name?.value),
                caller: ctx.viewer ? 'authenticated' : 'anonymous',
                errors: codes.map((code) => (typeof code === 'string' ? code : 'ERROR')),
                ms: Math.round(performance.now() - started),
              },
              'graphql operation',
            );
          },
        };
      },
    },
    ...(opts.plugins ?? []),
    {
      // Yoga reads a GET's `variables` and `extensions` with a bare JSON.parse: a malformed one would end
      // as an unexpected error (INTERNAL_SERVER_ERROR). It is the client's mistake: 400, as for a POST body.
      // Yoga's GET parser is synchronous: so is the wrapper (no promise per GET or SSE subscription).
      onRequestParse({ request, requestParser, setRequestParser }) {
        if (request.method !== 'GET' || !requestParser) return;
        setRequestParser((req) => {
          try {
            return requestParser(req);
          } catch (err) {
            if (!(err instanceof SyntaxError)) throw err;
            throw createGraphQLError(`The "${malformedGetParameter(req.url)}" parameter is not valid JSON.`, {
              extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
            });
          }
        });
      },
    },
    {
      // A POST in a format no parser reads (XML, `application/graphql-response+json`, which is a response
      // type): Yoga answers an empty 415. Say in GraphQL's shape what to send instead.
      onRequestParse({ request, requestParser, endResponse, fetchAPI }) {
        if (requestParser || request.method !== 'POST') return;
        endResponse(
          new fetchAPI.Response(
            JSON.stringify({ errors: [{ message: 'Unsupported content type: send the request as "content-type: application/json".', extensions: { code: 'BAD_REQUEST' } }] }),
            { status: 415, headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' } },
          ),
        );
      },
    },
    {
      // A subscription from a client that accepts no stream (`accept: application/json`): the last plugin
      // below does not run it (an empty stream stands in). Yoga would answer an empty 406 (and, had it
      // run, leave it open, holding one of the caller's SUBSCRIPTIONS_PER_CALLER slots and its payout's
      // watch until the payout ended). End it at once, and say in the answer what to do instead.
      onResultProcess({ result, resultProcessor, setResultProcessor, acceptableMediaTypes }) {
        if (resultProcessor || !isAsyncIterable(result)) return;
        const iterator = result[Symbol.asyncIterator]();
        void iterator.return?.()?.catch(() => undefined);
        setResultProcessor((_result, fetchAPI) => streamNotAcceptable(fetchAPI, acceptableMediaTypes), 'application/json');
      },
    },
    {
      // Last of our plugins: each distinct subscription selection runs once per event, whatever the
      // number of subscribers (graphql-ws and SSE alike), and its result is masked once, here, so no
      // per-subscriber masking layer follows (Yoga's masking hooks after this one are skipped).
      async onSubscribe({ args, setResultAndStopExecution }) {
        // Over HTTP, a client that takes no stream gets its 406 (see above) before anything runs: the
        // answer must not depend on the payout (visible, foreign or unknown) nor hold a slot meanwhile.
        const ctx = args.contextValue as unknown as { request?: Request; wsViewer?: unknown };
        const httpRequest = ctx.wsViewer === undefined ? ctx.request : undefined;
        if (httpRequest && !acceptsEventStream(httpRequest)) return setResultAndStopExecution(noResults());
        setResultAndStopExecution(await sharedSubscribe(args));
        if (!httpRequest) return undefined;
        return {
          // One that cannot start (not found, unauthenticated, bad variables) is one result. Yoga would
          // send it as JSON to an Accept of `*/*` or none; as a stream of one it is SSE (`next`, then
          // `complete`), like every other subscription answer over HTTP (graphql-ws sends the same two
          // frames). Wrapped here, after the earlier plugins' hooks (the metrics) have seen the result.
          onSubscribeResult({ result, setResult }) {
            if (!isAsyncIterable(result)) setResult(streamOfOne(result));
          },
        };
      },
    },
  ];
  const headers = opts.devToken ? JSON.stringify({ Authorization: `Bearer ${opts.devToken}` }) : '{}';
  return createYoga<ServerContext, GraphQLContext>({
    schema: opts.schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    batching: false,
    // The body cap runs before Yoga (app.ts: Content-Length check, capped read for chunked bodies).
    // Yoga's own cap wraps every body in a stream and costs a large share of throughput.
    maxRequestBodySize: false,
    // Only listed origins get CORS headers; anything else (including the opaque "null") gets none.
    cors: (request: Request) => {
      const origin = request.headers.get('origin');
      return origin && allowedOrigins.has(origin) ? { origin: [origin], credentials: false, methods: ['GET', 'POST'], exposedHeaders: ['x-request-id'] } : false;
    },
    maskedErrors: { maskError: mask },
    context: ({ request, req, wsViewer }) => opts.context({ request, ...(req ? { req } : {}), ...(wsViewer !== undefined ? { wsViewer } : {}) }),
    renderGraphiQL: renderLocalGraphiQL,
    graphiql: opts.graphiql
      ? {
          title: 'zopay-gateway',
          defaultQuery: EXAMPLE_DOCUMENT,
          defaultEditorToolsVisibility: 'headers',
          headers,
          // GraphiQL runs subscriptions over SSE with GET: it must pass the CSRF check like any client.
          additionalHeaders: { 'x-graphql-yoga-csrf': 'graphiql' },
        }
      : false,
    logging: {
      // Yoga logs at debug level on every request: skip building the line unless it is printed.
      debug: (...args: unknown[]) => {
        if (opts.log.isLevelEnabled('debug')) opts.log.debug({ yoga: args.map(String).join(' ') });
      },
      info: (...args: unknown[]) => opts.log.info({ yoga: args.map(String).join(' ') }),
      warn: (...args: unknown[]) => opts.log.warn({ yoga: args.map(String).join(' ') }),
      // Yoga reports client mistakes (validation, limits) at error level: keep attackers out of the error log.
      error: (...args: unknown[]) => {
        const clientError = args.every((a) => a instanceof GraphQLError);
        opts.log[clientError ? 'debug' : 'error']({ yoga: args.map((a) => (a instanceof Error ? a.name : String(a))).join(' ') });
      },
    },
    plugins,
  });
}

/** The first of a GET's JSON parameters that does not parse (Yoga reads variables, then extensions). */
function malformedGetParameter(url: string): 'variables' | 'extensions' {
  // The query string as Yoga reads it: everything after the first "?" (a "#" included).
  const params = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  try {
    JSON.parse(params.get('variables') || 'null');
  } catch {
    return 'variables';
  }
  return 'extensions';
}

/**
 * Whether Yoga would answer a subscription over HTTP with SSE: by its rule, an `Accept` entry (UTF-8 or
 * no charset) that `text/event-stream` matches, wildcards included; no `Accept` is `*\/*`. (Its
 * multipart processor is not offered for subscriptions.)
 */
function acceptsEventStream(request: Request): boolean {
  const entries = (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  return entries.some((entry) => {
    const [mediaType = '', ...params] = entry.split(';');
    const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
    const [type, subtype] = mediaType.split('/');
    return charset === 'charset=utf-8' && (type === '*' || type === 'text') && (subtype === '*' || subtype === 'event-stream');
  });
}

/** A subscription that ends at once, never started: what the 406 path above receives. */
async function* noResults(): AsyncGenerator<ExecutionResult> {}

/** A single result as a stream that yields it and ends. */
async function* streamOfOne(result: ExecutionResult): AsyncGenerator<ExecutionResult> {
  yield result;
}

/** 406, as Yoga answers, but with a GraphQL error saying how to subscribe. */
function streamNotAcceptable(fetchAPI: { Response: typeof Response }, acceptable: readonly string[]): Response {
  const body = JSON.stringify({
    errors: [
      {
        message: 'A subscription answers with a stream of results: subscribe over graphql-ws, or send "Accept: text/event-stream" (SSE).',
        extensions: { code: 'BAD_REQUEST' },
      },
    ],
  });
  return new fetchAPI.Response(body, {
    status: 406,
    headers: { 'content-type': 'application/json; charset=utf-8', accept: [...new Set(acceptable)].join(', ') },
  });
}

function isInternal(masked: Error): masked is GraphQLError {
  return masked instanceof GraphQLError && masked.extensions['code'] === 'INTERNAL_SERVER_ERROR';
}

/** An error the client saw only as INTERNAL_SERVER_ERROR: its name and message (logs mask phone numbers). */
function operationNameForLog(name: string | undefined): string | null {
  return name === undefined ? null : maskEveryPhoneForm(name.slice(0, 64));
}

function logInternal(log: Logger, error: unknown, masked: GraphQLError, fields: Record<string, unknown>, msg: string): void {
  const cause = error instanceof GraphQLError ? (error.originalError ?? error) : error instanceof Error ? error : new Error(String(error));
  log.error({ ...fields, path: masked.path?.join('.') ?? null, error: { name: cause.name, message: maskEveryPhoneForm(cause.message) } }, msg);
}
