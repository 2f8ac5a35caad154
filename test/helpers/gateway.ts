import { loadConfig, type Config } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { mintToken } from '../../src/auth/tokens.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestStack {
  sandbox: Sandbox;
  gateways: Gateway[];
  gateway: Gateway;
  token(sub: string, scope?: string, expiresInSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

/** A sandbox and N gateway instances wired to it (webhooks go to the first gateway unless told). */
export async function startStack(opts: {
  env?: Record<string, string>;
  /** Variables of one instance on top of `env` (instances configured differently, as during a rollout). */
  instanceEnv?: Record<string, string>[];
  instances?: number;
  sandbox?: SandboxOptions;
} = {}): Promise<TestStack> {
  const sandbox = await startSandbox({ port: 0, rateLimitPerMinute: 100_000, webhookUrl: null, ...opts.sandbox });
  const base: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    RECONCILE_INTERVAL_MS: '1000',
    ZOPAY_OPERATION_DEADLINE_MS: '5000',
    ZOPAY_REQUEST_TIMEOUT_MS: '2000',
    ZOPAY_RATE_LIMIT_PER_MINUTE: '100000',
    SHUTDOWN_DRAIN_MS: '0',
    ...opts.env,
  };
  const gateways: Gateway[] = [];
  try {
    for (let i = 0; i < (opts.instances ?? 1); i++) {
      const config: Config = loadConfig({ ...base, ...opts.instanceEnv?.[i] });
      gateways.push(await startGateway({ config, zopayBaseUrl: sandbox.url }));
    }
  } catch (err) {
    await Promise.all(gateways.map((g) => g.close()));
    await sandbox.close();
    throw err;
  }
  if (opts.sandbox?.webhookUrl === undefined) sandbox.setWebhookUrl(`${(gateways[0] as Gateway).url}/webhooks/zopay`);
  return {
    sandbox,
    gateways,
    gateway: gateways[0] as Gateway,
    token: (sub, scope = 'payouts:write', expiresInSeconds = 3600) => mintToken(TEST_JWT_SECRET, { sub, scope, expiresInSeconds }),
    close: async () => {
      await Promise.all(gateways.map((g) => g.close()));
      await sandbox.close();
    },
  };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body };
}

export const QUOTE = `mutation Q($input: CreateQuoteInput!) {
  createQuote(input: $input) {
    __typename
    ... on Quote { id amount currency gatewayFee platformFee merchantDebit expiresAt recipient { msisdn } gateway }
    ... on Error { code message }
  }
}`;

export const EXECUTE = `mutation E($input: ExecuteDisbursementInput!) {
  executeDisbursement(input: $input) {
    __typename
    ... on Payout { id status isFinal correlationId }
    ... on Error { code message }
  }
}`;

export const PAYOUT = `query P($id: ID!) { payout(id: $id) { id status isFinal amount currency totalAmount gatewayFee platformFee createdAt completedAt recipient { msisdn } failure { code message } } }`;

export function quoteInput(msisdn = '+237670000001', amount = '5000', gateway = 'MTN_MOMO') {
  return { input: { gateway, amount, currency: 'XAF', recipient: { msisdn } } };
}

/**
 * Sends the same execute every 500 ms until it answers a Payout or `timeoutMs` passes (e.g. while a
 * dead instance's lock holds the key). Returns the last result and every distinct answer seen: a
 * result's `__typename`, or the errors when there was no result.
 */
export async function executeUntilPayout(
  url: string,
  variables: Record<string, unknown>,
  token: string,
  timeoutMs: number,
): Promise<{ result: { __typename: string; id?: string } | undefined; seen: string[] }> {
  const seen = new Set<string>();
  let result: { __typename: string; id?: string } | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await gql<{ executeDisbursement: { __typename: string; id?: string } }>(url, EXECUTE, variables, token);
    result = res.data?.executeDisbursement;
    seen.add(result?.__typename ?? `errors: ${JSON.stringify(res.errors)}`);
    if (result?.__typename === 'Payout') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { result, seen: [...seen].sort() };
}

/** Quote then execute; returns the payout id. */
export async function pay(url: string, token: string, key: string, msisdn = '+237670000001'): Promise<string> {
  const q = await gql<{ createQuote: { id: string } }>(url, QUOTE, quoteInput(msisdn), token);
  const quoteId = q.data?.createQuote.id;
  if (!quoteId) throw new Error(`quote failed: ${JSON.stringify(q)}`);
  const e = await gql<{ executeDisbursement: { id: string; __typename: string } }>(
    url,
    EXECUTE,
    { input: { quoteId, idempotencyKey: key, recipient: { msisdn } } },
    token,
  );
  const id = e.data?.executeDisbursement.id;
  if (!id) throw new Error(`execute failed: ${JSON.stringify(e)}`);
  return id;
}
