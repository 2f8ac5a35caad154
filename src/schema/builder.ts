import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import type { GraphQLError } from 'graphql';
import type { z } from 'zod';
import type { GraphQLContext } from '../context.js';
import { SCOPES } from '../auth/viewer.js';
import { badUserInputError, forbiddenError, unauthenticatedError } from '../services/infra-errors.js';

/**
 * Configuration only. Types live in their own files; `schema/index.ts` imports them.
 *
 * plugin-dataloader is deliberately absent: its loader cache is keyed on the context object, which
 * graphql-ws reuses for every event of a subscription, so later events would read stale payouts.
 * Loaders live in the context instead and are renewed per operation and per subscription event.
 */
export interface SchemaTypes {
  Context: GraphQLContext;
  AuthScopes: { authenticated: boolean; write: boolean; read: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount: number };
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: string; Output: string };
    Decimal: { Input: string; Output: string };
    Msisdn: { Input: string; Output: string };
  };
}

/** Input that fails its zod schema: BAD_USER_INPUT naming every issue (plugin-zod's answer, and ours where we validate by hand). */
export function invalidInput(zodError: z.ZodError): GraphQLError {
  return badUserInputError(
    'Invalid input: ' + zodError.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
    zodError.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ZodPlugin, RelayPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      write: ctx.viewer?.scopes.has(SCOPES.WRITE) ?? false,
      read: ctx.viewer?.scopes.has(SCOPES.READ) ?? false,
    }),
    unauthorizedError: (_parent, ctx) => (ctx.viewer ? forbiddenError() : unauthenticatedError()),
  },
  errors: {
    // Never list the built-in Error here: that would expose unexpected failures as data.
    defaultTypes: [],
    directResult: true,
  },
  zod: { validationError: (zodError) => invalidInput(zodError) },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false, description: 'The items of this page, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Opaque: pass it as `after` to get the items after this one.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the list.' },
    pageInfoTypeOptions: { description: 'Where a page sits in its list (Relay cursor connections).' },
    hasNextPageFieldOptions: { description: 'True when more items follow: ask again with `after: endCursor`.' },
    hasPreviousPageFieldOptions: { description: 'True when this page does not start the list.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page; null when it is empty.' },
    endCursorFieldOptions: { description: 'Cursor to pass as `after` for the next page: the last item read (an empty page still moves on).' },
    firstArgOptions: { description: 'Page size, 1 to 100 (default 20).' },
    afterArgOptions: { description: 'Cursor of the last edge of the previous page.' },
    lastArgOptions: { description: 'Not supported: payouts page forwards only.' },
    beforeArgOptions: { description: 'Not supported: payouts page forwards only.' },
  },
});

builder.queryType({ description: 'Read payouts.' });
builder.mutationType({ description: 'Quote and execute payouts. Money moves only through executeDisbursement.' });
builder.subscriptionType({ description: 'Live payout status.' });
