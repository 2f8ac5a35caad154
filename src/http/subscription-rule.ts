import { GraphQLError, Kind, type ASTVisitor, type SelectionNode, type ValidationContext } from 'graphql';

const CONDITIONAL = new Set(['skip', 'include']);

/**
 * A subscription's root field must run: `@skip` or `@include` on it (or on a fragment that holds it)
 * leaves graphql-js 16 with no field to subscribe to, which it reports as an internal error. The GraphQL
 * spec forbids them there (graphql-js 17 checks it); this rule answers the client's mistake as one.
 */
export function SubscriptionRootDirectivesRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(op) {
      if (op.operation !== 'subscription') return;
      const seen = new Set<string>();
      const conditional = (selections: readonly SelectionNode[]): SelectionNode | undefined => {
        for (const sel of selections) {
          if (sel.directives?.some((d) => CONDITIONAL.has(d.name.value))) return sel;
          if (sel.kind === Kind.INLINE_FRAGMENT) {
            const found = conditional(sel.selectionSet.selections);
            if (found) return found;
          } else if (sel.kind === Kind.FRAGMENT_SPREAD && !seen.has(sel.name.value)) {
            seen.add(sel.name.value);
            const found = conditional(context.getFragment(sel.name.value)?.selectionSet.selections ?? []);
            if (found) return found;
          }
        }
        return undefined;
      };
      const node = conditional(op.selectionSet.selections);
      if (node) {
        context.reportError(
          new GraphQLError('A subscription\'s root field cannot be skipped or included conditionally (@skip, @include).', {
            nodes: [node],
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
        );
      }
    },
  };
}
