import { GraphQLError, Kind, type ASTVisitor, type SelectionNode, type ValidationContext } from 'graphql';

/** Mutation fields that move money: at most one of them per operation. */
const MONEY_FIELDS = new Set(['executeDisbursement']);

/**
 * Rejects an operation that selects a money-moving mutation field more than once (aliases, fragments),
 * so one request can never start two payouts.
 */
export function OneMoneyMutationRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(op) {
      if (op.operation !== 'mutation') return;
      let count = 0;
      const seen = new Set<string>();
      const visit = (selections: readonly SelectionNode[]) => {
        for (const sel of selections) {
          if (sel.kind === Kind.FIELD) {
            if (MONEY_FIELDS.has(sel.name.value)) count++;
          } else if (sel.kind === Kind.INLINE_FRAGMENT) {
            visit(sel.selectionSet.selections);
          } else if (sel.kind === Kind.FRAGMENT_SPREAD && !seen.has(sel.name.value)) {
            seen.add(sel.name.value);
            const frag = context.getFragment(sel.name.value);
            if (frag) visit(frag.selectionSet.selections);
          }
        }
      };
      visit(op.selectionSet.selections);
      if (count > 1) {
        context.reportError(
          new GraphQLError('At most one executeDisbursement per operation.', { nodes: [op], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
        );
      }
    },
  };
}
