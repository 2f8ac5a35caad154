import { GraphQLError } from 'graphql';

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
 * Masks every error not deliberately thrown for the client. Unlike Yoga's default, it never attaches
 * `originalError` or a stack, whatever NODE_ENV says. Variable-coercion failures (our scalars' own
 * messages, composed by graphql-js) become BAD_USER_INPUT.
 */
export function maskError(error: unknown, message: string): Error {
  if (error instanceof GraphQLError) {
    const code = error.extensions?.['code'];
    const original = error.originalError;
    if (typeof code === 'string' && PUBLIC_CODES.has(code) && (!original || original instanceof GraphQLError)) return error;
    if (original instanceof GraphQLError && typeof original.extensions?.['code'] === 'string' && PUBLIC_CODES.has(original.extensions['code'] as string)) {
      return new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: original.extensions });
    }
    if (error.path === undefined && /^(Variable "\$|Expected value of type|Argument ")/.test(error.message)) {
      return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } });
    }
    if (!original) {
      // graphql-js's and Yoga's own request errors (syntax, validation, CSRF): safe to show.
      const httpStatus = (error.extensions?.['http'] as { status?: number } | undefined)?.status;
      const fallback = httpStatus === 403 ? 'FORBIDDEN' : httpStatus !== undefined && httpStatus >= 400 ? 'BAD_REQUEST' : 'GRAPHQL_VALIDATION_FAILED';
      return new GraphQLError(error.message, {
        nodes: error.nodes,
        path: error.path,
        extensions: { ...error.extensions, code: typeof code === 'string' ? code : fallback },
      });
    }
    return new GraphQLError(message, { nodes: error.nodes, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
