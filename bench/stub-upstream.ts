/**
 * A ZoPay stand-in that answers at once, so a bench measures the gateway and not the upstream. Unlike the
 * sandbox it has no rate limit, no payout state machine, no webhooks and no ledger; like ZoPay it
 * authenticates every /api/v1 request (six x-zo-* headers, HMAC over the body exactly as received, clock
 * window, origin, nonce replay over the last 1–2 minutes) and answers 401 when anything is off, which
 * fails the bench. Requests are counted per route (GET /__stub/counts) so a scenario can assert how many
 * upstream calls a GraphQL operation cost.
 *
 * Run as a child by bench/run.ts (STUB_API_KEY, STUB_API_SECRET, STUB_ORIGIN; PORT optional).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { signRequest } from '../src/zopay/sign.js';
import { announceReady, exitWithParent, requiredEnv } from './lib/child.js';
import { Generations } from './lib/generations.js';
import { closeServer, listen, readBody, sendJson, serve } from './lib/http-server.js';

export interface StubOptions {
  apiKey: string;
  apiSecret: string;
  /** The only accepted `x-zo-origin`. */
  origin: string;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  now?: () => number;
}

export const STUB_ROUTES = ['quote', 'execute', 'get', 'list', 'unauthorized', 'invalid', 'notFound'] as const;
export type StubRoute = (typeof STUB_ROUTES)[number];
export type StubCounts = Record<StubRoute, number>;

export interface StubUpstream {
  url: string;
  counts(): StubCounts;
  resetCounts(): void;
  close(): Promise<void>;
}

interface QuoteRecord {
  gateway: string;
  currency: string;
  msisdn: string;
  amountCents: number;
  gatewayFeeCents: number;
  platformFeeCents: number;
}
interface PayoutRecord {
  id: string;
  quote: QuoteRecord;
  gatewayReference: string;
  correlationId: string;
  createdAt: string;
}

const TIMESTAMP_WINDOW_MS = 300_000;
const HEX64 = /^[0-9a-f]{64}$/;
const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;
const PAYOUT_PATH = /^\/api\/v1\/disbursements\/([^/]+)$/;

const cents = (amount: string): number => Math.round(Number(amount) * 100);
const money = (c: number): string => `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`;
const error = (res: ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, { error: status === 401 ? 'Unauthorized' : 'Bad Request', message, code });

export async function startStubUpstream(opts: StubOptions): Promise<StubUpstream> {
  const now = opts.now ?? Date.now;
  const counts = Object.fromEntries(STUB_ROUTES.map((r) => [r, 0])) as StubCounts;
  const nonces = new Generations<string, true>(60_000, now);
  const idempotency = new Generations<string, { fingerprint: string; payout: PayoutRecord }>(60_000, now);
  const payouts = new Generations<string, PayoutRecord>(120_000, now);
  // A few hundred per run (quote pools): kept for the life of the stub.
  const quotes = new Map<string, QuoteRecord>();
  let seq = 0;

  function authFailure(req: IncomingMessage, path: string, query: Record<string, string>, rawBody: string): string | undefined {
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const [key, timestamp, nonce, origin, signature, version] = ['x-zo-key', 'x-zo-timestamp', 'x-zo-nonce', 'x-zo-origin', 'x-zo-signature', 'x-zo-version'].map(h);
    if (!key || !timestamp || !nonce || !origin || !signature || !version) return 'Missing required header';
    if (version !== '1.0') return 'Unsupported version';
    if (key !== opts.apiKey) return 'Merchant not found';
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now() - Number(timestamp) * 1000) > TIMESTAMP_WINDOW_MS) return 'Request too old';
    if (!HEX64.test(signature)) return 'Invalid signature';
    const expected = signRequest({ method: req.method ?? '', path, query, body: rawBody, timestamp, nonce, origin }, opts.apiSecret);
    if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))) return 'Invalid signature';
    if (origin !== opts.origin) return 'Origin not allowed';
    if (nonces.has(nonce)) return 'Nonce already used';
    nonces.set(nonce, true);
    return undefined;
  }

  function payoutResource(p: PayoutRecord) {
    const q = p.quote;
    return {
      id: p.id,
      merchantId: 'merchant-bench',
      gateway: q.gateway,
      amount: money(q.amountCents),
      currency: q.currency,
      status: 'PROCESSING',
      recipient: { msisdn: q.msisdn },
      gatewayReference: p.gatewayReference,
      gatewayFee: money(q.gatewayFeeCents),
      platformFee: money(q.platformFeeCents),
      totalAmount: money(q.amountCents + q.gatewayFeeCents + q.platformFeeCents),
      createdAt: p.createdAt,
      completedAt: null,
    };
  }

  function quote(res: ServerResponse, body: Record<string, unknown>): void {
    const recipient = body['recipient'] as { msisdn?: unknown } | undefined;
    const { gateway, transaction_type: type, amount, currency } = body;
    if (
      (gateway !== 'MTN_MOMO' && gateway !== 'ORANGE_MONEY') ||
      type !== 'DISBURSEMENT' ||
      typeof amount !== 'string' ||
      !AMOUNT.test(amount) ||
      typeof currency !== 'string' ||
      !/^[A-Z]{3}$/.test(currency) ||
      typeof recipient?.msisdn !== 'string'
    ) {
      counts.invalid++;
      return error(res, 400, 'VALIDATION_ERROR', 'Invalid quote request');
    }
    counts.quote++;
    const amountCents = cents(amount);
    const q: QuoteRecord = {
      gateway,
      currency,
      msisdn: recipient.msisdn,
      amountCents,
      gatewayFeeCents: Math.round(amountCents / 100),
      platformFeeCents: Math.round(amountCents / 200),
    };
    const id = `q_${++seq}`;
    quotes.set(id, q);
    sendJson(res, 200, {
      quote_id: id,
      gateway_fee: money(q.gatewayFeeCents),
      platform_fee: money(q.platformFeeCents),
      total_amount: money(amountCents),
      net_to_merchant: money(-(amountCents + q.gatewayFeeCents + q.platformFeeCents)),
      expires_at: new Date(now() + 15 * 60_000).toISOString(),
    });
  }

  function execute(res: ServerResponse, body: Record<string, unknown>): void {
    const { quote_id: quoteId, idempotency_key: key } = body;
    const msisdn = (body['recipient'] as { msisdn?: unknown } | undefined)?.msisdn;
    if (typeof quoteId !== 'string' || typeof key !== 'string' || key === '' || typeof msisdn !== 'string') {
      counts.invalid++;
      return error(res, 400, 'VALIDATION_ERROR', 'Invalid execute request');
    }
    const q = quotes.get(quoteId);
    if (!q || q.msisdn !== msisdn) {
      counts.invalid++;
      return error(res, 400, q ? 'VALIDATION_ERROR' : 'QUOTE_NOT_FOUND', q ? 'Recipient differs from the quote' : 'Quote not found');
    }
    counts.execute++;
    const fingerprint = `${quoteId}\0${msisdn}`;
    const known = idempotency.get(key);
    if (known && known.fingerprint !== fingerprint) return error(res, 409, 'IDEMPOTENCY_CONFLICT', 'Idempotency key reused');
    let payout = known?.payout;
    if (!payout) {
      const n = ++seq;
      payout = { id: `po_${n}`, quote: q, gatewayReference: `MTN_REF_${n}`, correlationId: `corr_${n}`, createdAt: new Date(now()).toISOString() };
      idempotency.set(key, { fingerprint, payout });
      payouts.set(payout.id, payout);
    }
    sendJson(res, 200, { payout_id: payout.id, status: 'PROCESSING', gateway_reference: payout.gatewayReference, correlation_id: payout.correlationId });
  }

  const server = serve(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname;
    if (path === '/__stub/counts') {
      if (req.method === 'POST') for (const r of STUB_ROUTES) counts[r] = 0;
      return sendJson(res, 200, counts);
    }
    const raw = (await readBody(req, 1_000_000)).toString('utf8');
    const query = Object.fromEntries(url.searchParams);
    const failure = authFailure(req, path, query, raw);
    if (failure) {
      counts.unauthorized++;
      return error(res, 401, 'AUTH_ERROR', failure);
    }
    const route = `${req.method} ${path}`;
    if (route === 'GET /api/v1/disbursements') {
      counts.list++;
      const limit = Math.min(100, Math.max(1, Number(query['limit'] ?? 20) || 20));
      const offset = Math.max(0, Number(query['offset'] ?? 0) || 0);
      const items = payouts.newest(offset + limit).slice(offset).map(payoutResource);
      return sendJson(res, 200, { payouts: items, total: payouts.size, limit, offset, hasMore: offset + items.length < payouts.size });
    }
    const one = req.method === 'GET' ? PAYOUT_PATH.exec(path) : null;
    if (one) {
      counts.get++;
      const p = payouts.get(decodeURIComponent(one[1] as string));
      return p ? sendJson(res, 200, { payout: { ...payoutResource(p), error: null } }) : error(res, 404, 'NOT_FOUND', 'Payout not found');
    }
    if (route !== 'POST /api/v1/disbursements/quote' && route !== 'POST /api/v1/disbursements/execute') {
      counts.notFound++;
      return error(res, 404, 'NOT_FOUND', 'No such route');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      counts.invalid++;
      return error(res, 400, 'VALIDATION_ERROR', 'Body is not JSON');
    }
    if (typeof body !== 'object' || body === null) {
      counts.invalid++;
      return error(res, 400, 'VALIDATION_ERROR', 'Body is not an object');
    }
    const fields = body as Record<string, unknown>;
    return path.endsWith('/quote') ? quote(res, fields) : execute(res, fields);
  });

  const url = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  return {
    url,
    counts: () => ({ ...counts }),
    resetCounts: () => {
      for (const r of STUB_ROUTES) counts[r] = 0;
    },
    close: () => closeServer(server),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stub = await startStubUpstream({
    apiKey: requiredEnv('STUB_API_KEY'),
    apiSecret: requiredEnv('STUB_API_SECRET'),
    origin: requiredEnv('STUB_ORIGIN'),
    port: Number(process.env['PORT'] ?? 0),
  });
  exitWithParent(() => stub.close());
  announceReady(stub.url);
}
