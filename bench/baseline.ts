/**
 * The bare baseline: the least work that still does what executeDisbursement does on the wire, with no
 * GraphQL, no auth, no stores and no retries. node:http → parse `{quoteId, idempotencyKey, msisdn}` →
 * derive the upstream idempotency key and sign exactly as the gateway's ZoPayClient does (same body
 * string, same six x-zo-* headers) → one undici request over a keep-alive Pool configured like the
 * gateway's transport → map the reply with the gateway's own parser → 200 JSON shaped like the GraphQL
 * answer. Its throughput and latency are the floor the gateway is compared with.
 *
 * `POST /webhooks/zopay` is the webhook baseline: read the raw body, verify the HMAC, answer 200.
 *
 * Run as a child by bench/run.ts (BASELINE_UPSTREAM_URL, ZOPAY_API_KEY, ZOPAY_API_SECRET, ZOPAY_ORIGIN,
 * ZOPAY_WEBHOOK_SECRET, BASELINE_SUB; PORT optional).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { upstreamIdempotencyKey } from '../src/services/execute.js';
import { signedHeaders } from '../src/zopay/sign.js';
import { verifyWebhook } from '../src/zopay/webhook-signature.js';
import { toMsisdn } from '../src/zopay/wire-normalize.js';
import { parseExecuteResponse } from '../src/zopay/wire.js';
import { announceReady, exitWithParent, requiredEnv } from './lib/child.js';
import { closeServer, listen, readBody, sendJson, serve } from './lib/http-server.js';

export interface BaselineOptions {
  upstreamUrl: string;
  credentials: { apiKey: string; apiSecret: string; origin: string };
  webhookSecrets: readonly string[];
  /** The caller the upstream idempotency key is derived for (the gateway uses the JWT `sub`). */
  sub: string;
  host?: string;
  port?: number;
}

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

export const BASELINE_PATHS = { execute: '/execute', webhook: '/webhooks/zopay' } as const;
const EXECUTE_PATH = '/api/v1/disbursements/execute';

const badRequest = (res: ServerResponse, message: string) => sendJson(res, 400, { errors: [{ message }] });

/** The baseline's answer to one execute: what the GraphQL answer's `executeDisbursement` holds. */
export interface PayoutAnswer {
  __typename: 'Payout';
  id: string;
  status: string;
  isFinal: false;
  correlationId: string | null;
}

export interface ExecuteRequest {
  quoteId: string;
  idempotencyKey: string;
  msisdn: string;
}

/** The upstream answered something else than 2xx: the caller turns it into a failing answer. */
export class UpstreamRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly text: string,
  ) {
    super(`upstream answered ${statusCode}`);
  }
}

/**
 * The whole upstream side of one execute, as the gateway's ZoPayClient does it on the wire: derive the
 * upstream idempotency key, sign (same body string, same six x-zo-* headers), one request over a
 * keep-alive Pool configured like the gateway's transport, map the reply with the gateway's own parser.
 * The bare baseline and the floors (floors.ts) share it, so they differ only in what is in front of it.
 */
export function createExecutePayer(opts: Pick<BaselineOptions, 'upstreamUrl' | 'credentials' | 'sub'>): {
  pay(input: ExecuteRequest): Promise<PayoutAnswer>;
  close(): Promise<void>;
} {
  const { apiKey, apiSecret, origin } = opts.credentials;
  // The gateway transport's pool settings (src/zopay/transport.ts defaults and config defaults).
  const pool = new Pool(new URL(opts.upstreamUrl).origin, {
    connections: 10,
    pipelining: 1,
    connectTimeout: 3_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return {
    async pay({ quoteId, idempotencyKey, msisdn }) {
      const body = JSON.stringify({
        quote_id: quoteId,
        idempotency_key: upstreamIdempotencyKey(opts.sub, idempotencyKey),
        recipient: { msisdn: toMsisdn(msisdn) ?? msisdn },
      });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomUUID();
      const upstream = await pool.request({
        method: 'POST',
        path: EXECUTE_PATH,
        headers: { ...signedHeaders({ method: 'POST', path: EXECUTE_PATH, body, timestamp, nonce, origin }, { apiKey, apiSecret }), 'content-type': 'application/json' },
        body,
      });
      const text = await upstream.body.text();
      if (upstream.statusCode < 200 || upstream.statusCode > 299) throw new UpstreamRefused(upstream.statusCode, text);
      const payout = parseExecuteResponse(text);
      return { __typename: 'Payout', id: payout.id, status: payout.status, isFinal: false, correlationId: payout.correlationId ?? null };
    },
    close: () => pool.close(),
  };
}

export async function startBaseline(opts: BaselineOptions): Promise<Baseline> {
  const payer = createExecutePayer(opts);

  async function execute(res: ServerResponse, raw: Buffer): Promise<void> {
    let input: unknown;
    try {
      input = JSON.parse(raw.toString('utf8'));
    } catch {
      return badRequest(res, 'body is not JSON');
    }
    const { quoteId, idempotencyKey, msisdn } = (input ?? {}) as Record<string, unknown>;
    if (typeof quoteId !== 'string' || typeof idempotencyKey !== 'string' || typeof msisdn !== 'string') {
      return badRequest(res, 'quoteId, idempotencyKey and msisdn are required strings');
    }
    try {
      sendJson(res, 200, { data: { executeDisbursement: await payer.pay({ quoteId, idempotencyKey, msisdn }) } });
    } catch (err) {
      if (!(err instanceof UpstreamRefused)) throw err;
      sendJson(res, 502, { errors: [{ message: err.message, upstream: err.text.slice(0, 500) }] });
    }
  }

  function webhook(req: { headers: Record<string, string | string[] | undefined> }, res: ServerResponse, raw: Buffer): void {
    const h = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const verified = verifyWebhook({
      rawBody: raw,
      signature: h('x-zo-signature'),
      timestamp: h('x-zo-timestamp'),
      secrets: opts.webhookSecrets,
      nowMs: Date.now(),
    });
    if (!verified.ok) return sendJson(res, 401, { error: 'invalid signature', reason: verified.reason });
    sendJson(res, 200, { status: 'accepted' });
  }

  const server = serve(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || (path !== BASELINE_PATHS.execute && path !== BASELINE_PATHS.webhook)) {
      return sendJson(res, 404, { error: 'not found' });
    }
    const raw = await readBody(req, 100_000);
    return path === BASELINE_PATHS.webhook ? webhook(req, res, raw) : execute(res, raw);
  });
  const url = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  return {
    url,
    close: async () => {
      await closeServer(server);
      await payer.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const baseline = await startBaseline({
    upstreamUrl: requiredEnv('BASELINE_UPSTREAM_URL'),
    credentials: { apiKey: requiredEnv('ZOPAY_API_KEY'), apiSecret: requiredEnv('ZOPAY_API_SECRET'), origin: requiredEnv('ZOPAY_ORIGIN') },
    webhookSecrets: [requiredEnv('ZOPAY_WEBHOOK_SECRET')],
    sub: requiredEnv('BASELINE_SUB'),
    port: Number(process.env['PORT'] ?? 0),
  });
  exitWithParent(() => baseline.close());
  announceReady(baseline.url);
}
