/** Setup calls the scenarios make outside the measured runs: GraphQL to the gateway, counters of the stub. */
import { request } from 'undici';
import { BENCH_MSISDN, type BenchContext } from './context.js';
import type { StubCounts } from '../stub-upstream.js';

export const EXECUTE_MUTATION =
  'mutation Execute($input: ExecuteDisbursementInput!) { executeDisbursement(input: $input) { __typename ... on Payout { id status isFinal correlationId } ... on Error { code message } } }';

const CREATE_QUOTE_MUTATION =
  'mutation Quote($input: CreateQuoteInput!) { createQuote(input: $input) { __typename ... on Quote { id expiresAt } ... on Error { code message } } }';

/** A setup call that takes longer than this is a failure (a hang must not stall the bench). */
const SETUP_TIMEOUT_MS = 30_000;

export interface GraphQLAnswer {
  status: number;
  text: string;
  json: { data?: Record<string, unknown> | null; errors?: unknown[] } | undefined;
}

export class SetupError extends Error {
  constructor(
    message: string,
    readonly request: string,
    readonly answer: { status: number; text: string },
  ) {
    super(`${message}\n  request:  ${request.slice(0, 600)}\n  response: HTTP ${answer.status} ${answer.text.slice(0, 1_000)}`);
    this.name = 'SetupError';
  }
}

export async function graphql(ctx: BenchContext, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer> {
  const body = JSON.stringify({ query, variables });
  const res = await request(`${ctx.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.token}` },
    body,
    headersTimeout: SETUP_TIMEOUT_MS,
    bodyTimeout: SETUP_TIMEOUT_MS,
  });
  const text = await res.body.text();
  let json: GraphQLAnswer['json'];
  try {
    json = JSON.parse(text) as GraphQLAnswer['json'];
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

/** A field's object from a successful answer, or a SetupError that shows the request and the answer. */
async function mutation(ctx: BenchContext, query: string, input: Record<string, unknown>, field: string, typename: string) {
  const variables = { input };
  const answer = await graphql(ctx, query, variables);
  const value = answer.json?.data?.[field] as Record<string, unknown> | undefined;
  if (answer.status !== 200 || answer.json?.errors || value?.['__typename'] !== typename) {
    throw new SetupError(`${field} did not return a ${typename}`, JSON.stringify({ query, variables }), answer);
  }
  return value;
}

export async function createQuote(ctx: BenchContext): Promise<string> {
  const input = { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn: BENCH_MSISDN } };
  return String((await mutation(ctx, CREATE_QUOTE_MUTATION, input, 'createQuote', 'Quote'))['id']);
}

/** Quotes the gateway knows (createQuote through the gateway). The stub lets a quote be executed again. */
export async function createQuotePool(ctx: BenchContext, size: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < size) {
    const batch = Math.min(20, size - ids.length);
    ids.push(...(await Promise.all(Array.from({ length: batch }, () => createQuote(ctx)))));
  }
  return ids;
}

export async function executeViaGateway(ctx: BenchContext, quoteId: string, idempotencyKey: string): Promise<string> {
  const input = { quoteId, idempotencyKey, recipient: { msisdn: BENCH_MSISDN } };
  return String((await mutation(ctx, EXECUTE_MUTATION, input, 'executeDisbursement', 'Payout'))['id']);
}

export async function stubCounts(ctx: BenchContext, reset = false): Promise<StubCounts> {
  const res = await request(`${ctx.stub.url}/__stub/counts`, { method: reset ? 'POST' : 'GET', headersTimeout: SETUP_TIMEOUT_MS });
  return (await res.body.json()) as StubCounts;
}

/** Check for an executeDisbursement answer (the gateway's GraphQL and the baseline's mimic of it). */
export function checkExecuteAnswer(body: string): string | undefined {
  let json: { data?: { executeDisbursement?: { __typename?: string; code?: string } } | null; errors?: unknown[] };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    return 'answer is not JSON';
  }
  if (json.errors) return `GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`;
  const result = json.data?.executeDisbursement;
  if (result?.__typename !== 'Payout') return `expected a Payout, got ${result?.__typename ?? 'nothing'} ${result?.code ?? ''}`.trim();
  return undefined;
}
