import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { mintToken } from '../../src/auth/tokens.js';
import { createLogger } from '../../src/lib/logger.js';
import { LogCapture } from '../security/support.js';
import { EXECUTE, PAYOUT, QUOTE, TEST_JWT_SECRET, gql, pay, quoteInput } from '../helpers/gateway.js';

/**
 * A ZoPay-compatible server written from zopay-api.md §2 alone (no project code): it rebuilds the
 * string-to-sign from what it received and rejects anything that does not match.
 */
const KEY = 'independent_key';
const SECRET = 'independent_secret_value';
const ORIGIN = 'https://merchant.example';

interface Seen {
  method: string;
  path: string;
  body: string;
  verified: boolean;
}
const seen: Seen[] = [];
let server: Server;
let baseUrl: string;
let gateway: Gateway;
/** Answers 401 to everything, as ZoPay does when our clock is off or the secret is wrong (T50). */
let refuseAuth = false;
/** When set, what the next executes are answered (a business refusal). */
let executeAnswer: { status: number; body: Record<string, unknown> } | undefined;
/** When set, what the next quotes are answered. */
let quoteAnswer: { status: number; body: Record<string, unknown> } | undefined;
/** When set, executes are read and never answered (ZoPay committed, or not: the gateway cannot tell). */
let executeHangs = false;
/** When set, every GET of a payout is answered with this payout (a mixed-up cache in front of ZoPay). */
let misdirectTo: string | undefined;
/** Everything the gateway logs (at info). */
const logs = new LogCapture();

function verify(req: IncomingMessage, body: string): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  const query = [...url.searchParams.keys()].sort().map((k) => `${k}=${url.searchParams.get(k) ?? ''}`).join('&');
  const h = (n: string) => String(req.headers[n] ?? '');
  if (h('x-zo-key') !== KEY || h('x-zo-version') !== '1.0' || h('x-zo-origin') !== ORIGIN) return false;
  if (Math.abs(Date.now() / 1000 - Number(h('x-zo-timestamp'))) > 300) return false;
  const toSign = `${req.method}${url.pathname}${query}${body}${h('x-zo-timestamp')}${h('x-zo-nonce')}${h('x-zo-origin')}`;
  return createHmac('sha256', SECRET).update(toSign).digest('hex') === h('x-zo-signature');
}

beforeAll(async () => {
  const payouts = new Map<string, Record<string, unknown>>();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const ok = verify(req, body);
      seen.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', body, verified: ok });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (!ok || refuseAuth) return send(401, { error: 'Unauthorized', message: 'Invalid signature', code: 'AUTH_ERROR', correlation_id: 'zp-corr-401' });
      if (req.url === '/api/v1/disbursements/quote' && quoteAnswer) return send(quoteAnswer.status, quoteAnswer.body);
      if (req.url === '/api/v1/disbursements/quote') {
        return send(200, { quote_id: randomUUID(), gateway_fee: '50.00', platform_fee: '25.00', total_amount: '5000.00', net_to_merchant: '-5075.00', expires_at: new Date(Date.now() + 900_000).toISOString() });
      }
      if (req.url === '/api/v1/disbursements/execute' && executeHangs) return;
      if (req.url === '/api/v1/disbursements/execute' && executeAnswer) return send(executeAnswer.status, executeAnswer.body);
      if (req.url === '/api/v1/disbursements/execute') {
        const id = randomUUID();
        const b = JSON.parse(body) as { recipient: { msisdn: string } };
        payouts.set(id, { id, merchantId: 'm', gateway: 'MTN_MOMO', amount: '5000.00', currency: 'XAF', status: 'SUCCESS', recipient: b.recipient, gatewayReference: 'R', gatewayFee: '50.00', platformFee: '25.00', totalAmount: '5075.00', createdAt: new Date().toISOString(), completedAt: new Date().toISOString(), error: null });
        return send(200, { payout_id: id, status: 'PROCESSING', gateway_reference: 'R', correlation_id: randomUUID() });
      }
      if ((req.url ?? '').startsWith('/api/v1/disbursements?')) {
        const list = [...payouts.values()];
        return send(200, { payouts: list, total: list.length, limit: 20, offset: 0, hasMore: false });
      }
      const m = /^\/api\/v1\/disbursements\/([\w-]+)$/.exec(req.url ?? '');
      if (m?.[1] && misdirectTo !== undefined) return send(200, { payout: payouts.get(misdirectTo) });
      if (m?.[1] && payouts.has(m[1])) return send(200, { payout: payouts.get(m[1]) });
      return send(404, { error: 'Not Found', message: 'Not found', code: 'NOT_FOUND' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET, ZOPAY_API_KEY: KEY, ZOPAY_API_SECRET: SECRET, ZOPAY_ORIGIN: ORIGIN });
  gateway = await startGateway({ config, zopayBaseUrl: baseUrl, log: createLogger({ level: 'info', destination: logs }) });
});
afterAll(async () => {
  await gateway.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('against an independently written ZoPay-compatible server', () => {
  it('every request the gateway sends verifies, and bodies carry exactly ZoPay\'s fields', async () => {
    const token = await mintToken(TEST_JWT_SECRET, { sub: 'indep', scope: 'payouts:write payouts:read' });
    const q = await gql<{ createQuote: { id: string } }>(gateway.url, QUOTE, quoteInput(), token);
    const e = await gql<{ executeDisbursement: { id: string } }>(
      gateway.url,
      EXECUTE,
      { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'indep-1', recipient: { msisdn: '+237670000001' } } },
      token,
    );
    const p = await gql<{ payout: { status: string } }>(gateway.url, PAYOUT, { id: e.data?.executeDisbursement.id }, token);
    expect(p.data?.payout.status).toBe('SUCCESS');
    const list = await gql<{ payouts: { totalCount: number } }>(
      gateway.url,
      `query { payouts(first: 20, filter: { status: SUCCESS, createdAfter: "2026-01-01T00:00:00Z" }) { totalCount } }`,
      {},
      token,
    );
    expect(list.data?.payouts.totalCount).toBe(1);
    expect(seen.map((s) => `${s.method} ${s.path.replace(/[0-9a-f-]{36}$/, ':id')}`)).toEqual([
      'POST /api/v1/disbursements/quote',
      'POST /api/v1/disbursements/execute',
      'GET /api/v1/disbursements/:id',
      'GET /api/v1/disbursements',
    ]);
    expect(seen.every((s) => s.verified)).toBe(true);
    const execute = JSON.parse(seen[1]?.body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(execute)).toEqual(['quote_id', 'idempotency_key', 'recipient']);
    expect(execute['recipient']).toEqual({ msisdn: '+237670000001' });
    expect(Object.keys(JSON.parse(seen[0]?.body ?? '{}') as object)).toEqual(['gateway', 'transaction_type', 'amount', 'currency', 'recipient']);
  });

  it('a read answered with another payout than the one asked for serves nothing of it and records nothing', async () => {
    const owner = await mintToken(TEST_JWT_SECRET, { sub: 'indep-owner', scope: 'payouts:write' });
    const theirs = await pay(gateway.url, owner, 'indep-mixed-1');
    const before = await gateway.state.stores.payouts.get(theirs);
    const backOffice = await mintToken(TEST_JWT_SECRET, { sub: 'indep-ops', scope: 'payouts:read' });
    misdirectTo = theirs;
    try {
      const asked = 'b3f1c0de-0000-4000-8000-000000000001';
      const res = await gql<{ payout: unknown }>(gateway.url, PAYOUT, { id: asked }, backOffice);
      expect(res.data?.payout ?? null).toBeNull();
      expect(res.errors?.map((err) => err.extensions?.['code'])).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(JSON.stringify(res)).not.toContain(theirs);
      await expect(gateway.state.stores.payouts.get(asked)).resolves.toBeUndefined();
      expect(await gateway.state.stores.payouts.get(theirs)).toEqual(before);
    } finally {
      misdirectTo = undefined;
    }
  });

  it('ZoPay refusing the gateway itself (401: clock, key or secret) is UPSTREAM_UNAVAILABLE, retry-safe and not retried; the key is free again', async () => {
    const token = await mintToken(TEST_JWT_SECRET, { sub: 'indep-auth', scope: 'payouts:write payouts:read' });
    const q = await gql<{ createQuote: { id: string } }>(gateway.url, QUOTE, quoteInput(), token);
    const input = { quoteId: q.data?.createQuote.id, idempotencyKey: 'indep-auth-1', recipient: { msisdn: '+237670000001' } };
    const executes = () => seen.filter((r) => r.path === '/api/v1/disbursements/execute').length;
    const before = executes();
    refuseAuth = true;
    try {
      const refused = await gql(gateway.url, EXECUTE, { input }, token);
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_UNAVAILABLE', retrySafe: true }]);
      expect(executes()).toBe(before + 1);
      const quote = await gql(gateway.url, QUOTE, quoteInput(), token);
      expect(quote.errors?.map((e) => e.extensions?.['code'])).toEqual(['UPSTREAM_UNAVAILABLE']);
      // The operator learns why from the log: ZoPay's status, machine code and correlation id (for ZoPay's
      // support), never its message or body.
      const refusals = logs.records().filter((r) => String(r['msg']).startsWith('ZoPay refused the gateway itself'));
      expect(refusals.map((r) => [r['operation'], r['err']])).toEqual(
        ['execute', 'quote'].map((operation) => [
          operation,
          { name: 'ZoPayAuthenticationError', code: 'ZOPAY_AUTHENTICATION', httpStatus: 401, upstreamCode: 'AUTH_ERROR', correlationId: 'zp-corr-401' },
        ]),
      );
      expect(logs.text()).not.toContain('Invalid signature');
    } finally {
      refuseAuth = false;
    }
    // Nothing was paid, so the same key executes normally once ZoPay accepts the gateway again.
    const retried = await gql<{ executeDisbursement: { __typename?: string; id?: string } }>(gateway.url, EXECUTE, { input }, token);
    expect(retried.errors).toBeUndefined();
    expect(retried.data?.executeDisbursement.id).toEqual(expect.any(String));
    expect(executes()).toBe(before + 2);
  });

  it('a quote refused with a 402 (documented for executes only) is a typed QuoteRejectedError, not an internal error', async () => {
    const token = await mintToken(TEST_JWT_SECRET, { sub: 'indep-quote-402', scope: 'payouts:write' });
    quoteAnswer = { status: 402, body: { error: 'Payment Required', message: 'Insufficient balance', code: 'INSUFFICIENT_BALANCE' } };
    try {
      const res = await gql<{ createQuote: Record<string, unknown> }>(gateway.url, QUOTE, quoteInput(), token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.createQuote).toMatchObject({ __typename: 'QuoteRejectedError', code: 'QUOTE_REJECTED', message: expect.stringMatching(/balance is insufficient/) });
    } finally {
      quoteAnswer = undefined;
    }
  });

  it('a ZoPay failure the client only hears as UPSTREAM_UNAVAILABLE is logged for the operator with ZoPay\'s status, code and correlation id', async () => {
    const token = await mintToken(TEST_JWT_SECRET, { sub: 'indep-quote-503', scope: 'payouts:write' });
    quoteAnswer = { status: 503, body: { error: 'Service Unavailable', message: 'Down for +237670000001', code: 'MAINTENANCE', correlation_id: 'zp-corr-503' } };
    const before = logs.records().length;
    try {
      const res = await gql(gateway.url, QUOTE, quoteInput(), token);
      expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['UPSTREAM_UNAVAILABLE']);
    } finally {
      quoteAnswer = undefined;
    }
    const warned = logs.records().slice(before).filter((r) => r['msg'] === 'ZoPay or the store failed; the client was told UPSTREAM_UNAVAILABLE');
    expect(warned.map((r) => [r['level'], r['operation'], r['err']])).toEqual([
      [40, 'quote', { name: 'ZoPayServerError', code: 'ZOPAY_SERVER_ERROR', httpStatus: 503, upstreamCode: 'MAINTENANCE', correlationId: 'zp-corr-503' }],
    ]);
    expect(logs.text()).not.toContain('Down for');
  });

  it.each([
    ['a refusal with a code the gateway has no type for (422 RISK_REJECTED)', 422, 'RISK_REJECTED', 'PayoutRejectedError', 'PAYOUT_REJECTED'],
    ['a 400 VALIDATION_ERROR', 400, 'VALIDATION_ERROR', 'InvalidRecipientError', 'INVALID_RECIPIENT'],
    ['a 400 VALIDATION_ERROR whose field errors name the amount (not the recipient)', 400, 'VALIDATION_ERROR:amount', 'PayoutRejectedError', 'PAYOUT_REJECTED'],
  ])('%s is a typed business outcome, and its replay answers word for word the same without asking ZoPay', async (_name, status, answer, typename, code) => {
    // "CODE:field": ZoPay's code, with a field error on that field.
    const [upstreamCode, field] = answer.split(':') as [string, string | undefined];
    const id = answer.replace(':', '-');
    const token = await mintToken(TEST_JWT_SECRET, { sub: `indep-refused-${id}`, scope: 'payouts:write' });
    const q = await gql<{ createQuote: { id: string } }>(gateway.url, QUOTE, quoteInput(), token);
    const input = { quoteId: q.data?.createQuote.id, idempotencyKey: `refused-${id}`, recipient: { msisdn: '+237670000001' } };
    const executes = () => seen.filter((r) => r.path === '/api/v1/disbursements/execute').length;
    executeAnswer = { status, body: { error: 'Unprocessable', message: 'Refused by the risk engine for +237670000001', code: upstreamCode, ...(field ? { errors: { [field]: ['is not allowed'] } } : {}) } };
    try {
      const first = await gql<{ executeDisbursement: Record<string, unknown> }>(gateway.url, EXECUTE, { input }, token);
      expect(first.data?.executeDisbursement).toMatchObject({ __typename: typename, code });
      // ZoPay's own text (which may carry a phone number) never reaches the client.
      expect(JSON.stringify(first)).not.toContain('670000001');
      expect(logs.text()).not.toContain('670000001');
      expect(logs.text()).not.toContain('risk engine');
      const before = executes();
      const replay = await gql(gateway.url, EXECUTE, { input }, token);
      expect(replay.data).toEqual(first.data);
      expect(executes()).toBe(before);
    } finally {
      executeAnswer = undefined;
    }
  });

  describe('a refusal answered to a retry after an unknown outcome keeps it unknown (the first attempt may have paid)', () => {
    let quick: Gateway;
    beforeAll(async () => {
      quick = await startGateway({
        config: loadConfig({
          NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET, ZOPAY_API_KEY: KEY, ZOPAY_API_SECRET: SECRET, ZOPAY_ORIGIN: ORIGIN,
          ZOPAY_REQUEST_TIMEOUT_MS: '300', ZOPAY_OPERATION_DEADLINE_MS: '1000', ZOPAY_MAX_ATTEMPTS: '1',
        }),
        zopayBaseUrl: baseUrl,
        log: createLogger({ level: 'info', destination: logs }),
      });
    });
    afterAll(async () => {
      await quick.close();
    });

    it.each([
      ['a refusal with no code the gateway knows (422 RISK_REJECTED: "nothing was paid")', 422, { code: 'RISK_REJECTED' }],
      ['QUOTE_ALREADY_USED (ZoPay may check the quote before the key)', 409, { code: 'QUOTE_ALREADY_USED' }],
      ['a 409 for the key ("key reused": the client would start over with a new key)', 409, { code: 'IDEMPOTENCY_CONFLICT' }],
      ['QUOTE_EXPIRED', 400, { code: 'QUOTE_EXPIRED' }],
      ['insufficient balance (the first attempt may have spent it)', 402, { code: 'INSUFFICIENT_BALANCE' }],
    ])('%s', async (_name, status, body) => {
      const token = await mintToken(TEST_JWT_SECRET, { sub: `indep-resumed-${status}-${body.code}`, scope: 'payouts:write' });
      const q = await gql<{ createQuote: { id: string } }>(quick.url, QUOTE, quoteInput(), token);
      const input = { quoteId: q.data?.createQuote.id, idempotencyKey: `resumed-${status}-${body.code}`, recipient: { msisdn: '+237670000001' } };
      const unknown = { code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true };
      try {
        executeHangs = true;
        const requestId = `hang-${status}-${String(body.code)}`;
        expect((await gql(quick.url, EXECUTE, { input }, token, { 'x-request-id': requestId })).errors?.map((e) => e.extensions)).toEqual([unknown]);
        // One warning says what happened (the execute's own, with the key's state), not two.
        expect(logs.records().filter((r) => r['requestId'] === requestId && r['level'] === 40).map((r) => r['msg'])).toEqual(['execute outcome unknown; client told to retry with the same key']);
        executeHangs = false;
        executeAnswer = { status, body: { error: 'Refused', message: 'Refused', ...body } };
        expect((await gql(quick.url, EXECUTE, { input }, token)).errors?.map((e) => e.extensions)).toEqual([unknown]);
        executeAnswer = undefined;
        // The key is still open: the next retry reaches ZoPay again (which would replay a payout it made).
        const paid = await gql<{ executeDisbursement: { __typename: string } }>(quick.url, EXECUTE, { input }, token);
        expect(paid.data?.executeDisbursement.__typename).toBe('Payout');
      } finally {
        executeHangs = false;
        executeAnswer = undefined;
      }
    });
  });
});
