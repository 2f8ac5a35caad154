import { BREAK, GraphQLError, Kind, parse, visit, type ASTNode } from 'graphql';
import { maskPhoneNumbers } from '../lib/msisdn.js';

const PUBLIC_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'OPERATION_LIMIT',
  'BAD_REQUEST',
  'NOT_FOUND',
]);

/**
 * Client-visible messages carry no phone number, no echo of the submitted value and, in production, no
 * "Did you mean …?" hint about the schema.
 */
export function sanitizeMessage(message: string, production: boolean): string {
  let m = withoutEchoedValue(withoutEchoedValue(message, 'got invalid value ', 'got an invalid value'), 'found ', 'found an invalid value');
  // graphql-js's own scalars quote the value again in the reason ("Int cannot represent …: "x"").
  m = m.replace(/(cannot represent [^:;]*): [\s\S]*$/, '$1.');
  if (production) m = m.replace(/ ?Did you mean [^?]*\?/g, '');
  return maskPhoneNumbers(m);
}

/**
 * Extensions a client may see: never the internals some libraries attach there themselves (Yoga puts
 * the JSON parser's `originalError`, its message quoting the body, on an invalid JSON body).
 */
function publicExtensions(extensions: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!('originalError' in extensions) && !('stacktrace' in extensions) && !('exception' in extensions)) return extensions as Record<string, unknown>;
  const { originalError: _o, stacktrace: _s, exception: _e, ...kept } = extensions;
  const rest: Record<string, unknown> = kept;
  const http = rest['http'];
  // Yoga answers such a request error with its 400 only while `originalError` is there (for an
  // application/json client it would otherwise answer 200): keep the status it meant, explicitly.
  if (http && typeof http === 'object' && 'spec' in http) rest['http'] = { ...http, spec: false };
  return rest;
}

/**
 * Replaces the value graphql-js prints after `marker` (a quoted string, a list or an input object, which
 * may itself contain `; ` or ` at "`) up to where its message goes on.
 */
function withoutEchoedValue(message: string, marker: string, replacement: string): string {
  const start = message.indexOf(marker);
  if (start === -1) return message;
  let i = start + marker.length;
  let depth = 0;
  let quoted = false;
  for (; i < message.length; i++) {
    const c = message[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (depth <= 0 && (message.startsWith('; ', i) || message.startsWith(' at "', i))) break;
  }
  return message.slice(0, start) + replacement + message.slice(i);
}

/** graphql-js's messages for a variable or argument value it could not coerce (not other validation). */
const COERCION = /^(Variable "\$[^"]+" (got invalid value|got an invalid value|of required type|of non-null type)|Expected value of type|Argument "[^"]+" (of required type|has invalid value))/;

/**
 * The `issues` entry of a variable or argument graphql-js could not coerce (our scalars' messages, an
 * unknown enum value or input field, a missing value), from its message: 'Variable "$input" got an
 * invalid value at "input.amount"; Decimal must be …' → { path: 'input.amount', message: 'Decimal must be …' }.
 */
function coercionIssue(message: string): { path: string; message: string } {
  const variable = /^Variable "\$([^"]+)" got an invalid value(?: at "([^"]+)")?; ([\s\S]*)$/.exec(message);
  if (variable) return { path: variable[2] ?? variable[1] ?? '', message: variable[3] ?? message };
  const missing = /^Variable "\$([^"]+)" of (?:required|non-null) type "[^"]+" (?:was not provided|must not be null)\.$/.exec(message);
  if (missing) return { path: missing[1] ?? '', message: 'A value is required.' };
  const argument = /^Argument "([^"]+)"/.exec(message);
  return { path: argument?.[1] ?? '', message };
}

/**
 * Where an inline literal graphql-js refused sits in the document, named as for a variable: the argument,
 * then the input fields down to the value (`input.recipient.msisdn`). graphql-js gives only the value's
 * node, so the document is parsed again (an error path, and documents are small) and the node found by
 * its position. Empty when it cannot tell.
 */
function literalPath(error: GraphQLError): string {
  const target = error.nodes?.[0];
  const start = target?.loc?.start;
  const body = error.source?.body;
  if (target === undefined || start === undefined || body === undefined) return '';
  let path = '';
  try {
    visit(parse(body), {
      enter(node, _key, parent, _path, ancestors) {
        if (node.kind !== target.kind || node.loc?.start !== start) return undefined;
        const names: string[] = [];
        // `ancestors` stops short of the node's parent (an argument or input field holding it).
        for (const a of [...ancestors, parent]) {
          if (a !== undefined && !Array.isArray(a) && ((a as ASTNode).kind === Kind.ARGUMENT || (a as ASTNode).kind === Kind.OBJECT_FIELD)) {
            names.push((a as { name: { value: string } }).name.value);
          }
        }
        path = names.join('.');
        return BREAK;
      },
    });
  } catch {
    return '';
  }
  return path;
}

/**
 * Masks every error not deliberately thrown for the client. Unlike Yoga's default, it never attaches
 * `originalError` or a stack, whatever NODE_ENV says. Variable-coercion failures (our scalars' own
 * messages, composed by graphql-js) become BAD_USER_INPUT with `issues`. Used for HTTP, SSE and
 * graphql-ws alike.
 */
export function createMaskError(production: boolean) {
  const clean = (message: string) => sanitizeMessage(message, production);
  return function maskError(error: unknown, message: string): Error {
    if (error instanceof GraphQLError) {
      const code = error.extensions?.['code'];
      const original = error.originalError;
      const copy = (extensions: Record<string, unknown>) =>
        new GraphQLError(clean(error.message), { nodes: error.nodes, path: error.path, extensions: publicExtensions(extensions) });
      if (typeof code === 'string' && PUBLIC_CODES.has(code) && (!original || original instanceof GraphQLError)) {
        return copy(error.extensions);
      }
      if (original instanceof GraphQLError && typeof original.extensions?.['code'] === 'string' && PUBLIC_CODES.has(original.extensions['code'] as string)) {
        return new GraphQLError(clean(original.message), { nodes: error.nodes, path: error.path, extensions: publicExtensions(original.extensions) });
      }
      if (error.path === undefined && COERCION.test(error.message)) {
        const issue = coercionIssue(clean(error.message));
        return copy({ code: 'BAD_USER_INPUT', issues: [issue.path === '' ? { ...issue, path: literalPath(error) } : issue] });
      }
      if (!original) {
        // graphql-js's and Yoga's own request errors (syntax, validation, CSRF): safe to show.
        const httpStatus = (error.extensions?.['http'] as { status?: number } | undefined)?.status;
        const fallback =
          httpStatus === 403 ? 'FORBIDDEN' : httpStatus !== undefined && httpStatus >= 400 ? 'BAD_REQUEST' : 'GRAPHQL_VALIDATION_FAILED';
        return copy({ ...error.extensions, code: typeof code === 'string' ? code : fallback });
      }
      return new GraphQLError(message, { nodes: error.nodes, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
