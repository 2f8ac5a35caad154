/** GraphQL over HTTP for the simulated clients: one POST, classified so callers can decide to retry. */
import { Agent, request } from 'undici';

export const QUOTE = `mutation Q($input: CreateQuoteInput!) {
  createQuote(input: $input) {
    __typename
    ... on Quote { id }
    ... on Error { code message }
  }
}`;

export const EXECUTE = `mutation E($input: ExecuteDisbursementInput!) {
  executeDisbursement(input: $input) {
    __typename
    ... on Payout { id status isFinal }
    ... on IdempotencyKeyInProgressError { retryAfter }
    ... on Error { code message }
  }
}`;

export const PAYOUT = `query P($id: ID!) { payout(id: $id) { id status isFinal } }`;

export const PAYOUT_STATUS = `subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal } }`;

export interface GraphQLErrorBody {
  message?: string;
  extensions?: { code?: unknown; retryAfter?: unknown; retrySafe?: unknown; outcomeUnknown?: unknown };
}

/** How one HTTP GraphQL call ended. */
export type CallResult =
  | { kind: 'data'; status: number; data: Record<string, unknown> | null; errors: GraphQLErrorBody[] }
  | { kind: 'transport'; reason: 'network' | 'timeout' | 'http' | 'body'; status?: number; detail: string };

/** One connection pool per run: close() ends it. */
export class GraphQLHttp {
  private readonly agent = new Agent({ connections: 512, keepAliveTimeout: 4_000, pipelining: 1, connect: { timeout: 3_000 } });

  post(baseUrl: string, query: string, variables: Record<string, unknown>, token: string, timeoutMs: number): Promise<CallResult> {
    return postGraphQL(this.agent, baseUrl, query, variables, token, timeoutMs);
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

async function postGraphQL(
  agent: Agent,
  baseUrl: string,
  query: string,
  variables: Record<string, unknown>,
  token: string,
  timeoutMs: number,
): Promise<CallResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await request(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      dispatcher: agent,
      signal,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    if (signal.aborted) return { kind: 'transport', reason: 'timeout', detail: `no answer within ${timeoutMs} ms` };
    return { kind: 'transport', reason: 'network', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  let body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorBody[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { kind: 'transport', reason: status >= 500 ? 'http' : 'body', status, detail: `HTTP ${status}, not JSON: ${text.slice(0, 120)}` };
  }
  if (typeof body !== 'object' || body === null || (body.data === undefined && body.errors === undefined)) {
    return { kind: 'transport', reason: 'http', status, detail: `HTTP ${status} without data or errors` };
  }
  return { kind: 'data', status, data: body.data ?? null, errors: body.errors ?? [] };
}

export function errorCode(e: GraphQLErrorBody): string {
  return typeof e.extensions?.code === 'string' ? e.extensions.code : 'NO_CODE';
}

export function retryAfterOf(e: GraphQLErrorBody): number | undefined {
  const v = e.extensions?.retryAfter;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
