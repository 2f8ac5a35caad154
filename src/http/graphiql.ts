/** The flow, preloaded in GraphiQL: quote → execute → payout → payouts → live status. */

export const EXAMPLE_OPERATIONS = [
  {
    query: `mutation CreateQuote($input: CreateQuoteInput!) {
  createQuote(input: $input) {
    __typename
    ... on Quote { id amount currency gatewayFee platformFee merchantDebit expiresAt recipient { msisdn } }
    ... on Error { code message }
  }
}`,
    variables: { input: { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn: '+237670000001' } } },
  },
  {
    query: `mutation ExecuteDisbursement($input: ExecuteDisbursementInput!) {
  executeDisbursement(input: $input) {
    __typename
    ... on Payout { id status isFinal correlationId }
    ... on Error { code message }
  }
}`,
    variables: { input: { quoteId: 'paste-the-quote-id', idempotencyKey: 'order-1001', recipient: { msisdn: '+237670000001' } } },
  },
  {
    query: `query Payout($id: ID!) {
  payout(id: $id) { id status isFinal amount currency gatewayFee platformFee totalAmount createdAt completedAt recipient { msisdn } failure { code message } }
}`,
    variables: { id: 'paste-the-payout-id' },
  },
  {
    query: `query Payouts($first: Int, $after: String, $filter: PayoutFilter) {
  payouts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id status amount currency createdAt } }
  }
}`,
    variables: { first: 10 },
  },
  {
    query: `subscription PayoutStatus($payoutId: ID!) {
  payoutStatus(payoutId: $payoutId) { id status isFinal completedAt failure { code message } }
}`,
    variables: { payoutId: 'paste-the-payout-id' },
  },
] as const;
