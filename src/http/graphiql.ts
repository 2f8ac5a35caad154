/**
 * The flow, preloaded in GraphiQL as one document: pick an operation with the run button's menu.
 * Arguments are inline (not variables) so each operation runs as it is after pasting an id.
 */
export const EXAMPLE_DOCUMENT = `# zopay-gateway: quote → execute → watch → read.
# Sandbox numbers: +237670000001 SUCCESS, …0003 FAILED (insufficient funds), …0004 FAILED (declined),
# …0005 stays PROCESSING. Orange Money: +2376900000NN. Run CreateQuote, paste the quote id below, run
# ExecuteDisbursement, paste the payout id, then run PayoutStatus to watch it reach SUCCESS live.

mutation CreateQuote {
  createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "+237670000001" } }) {
    __typename
    ... on Quote { id amount currency gatewayFee platformFee merchantDebit expiresAt recipient { msisdn } }
    ... on Error { code message }
  }
}

mutation ExecuteDisbursement {
  executeDisbursement(input: { quoteId: "PASTE-QUOTE-ID", idempotencyKey: "order-1001", recipient: { msisdn: "+237670000001" } }) {
    __typename
    ... on Payout { id status isFinal correlationId }
    ... on Error { code message }
  }
}

subscription PayoutStatus {
  payoutStatus(payoutId: "PASTE-PAYOUT-ID") { id status isFinal completedAt failure { code message } }
}

query Payout {
  payout(id: "PASTE-PAYOUT-ID") { id status isFinal amount currency gatewayFee platformFee totalAmount createdAt completedAt recipient { msisdn } failure { code message } }
}

query Payouts {
  payouts(first: 10) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id status amount currency createdAt } }
  }
}
`;
