/**
 * The raw `ws` broadcast baseline of the subscription scenarios: the least work that still delivers a
 * webhook's status change to every subscriber with the frames the gateway sends, with no GraphQL, no
 * auth, no Redis and no per-subscriber async machinery.
 *
 * - WebSocket on /graphql, graphql-transport-ws minimally: `connection_init` → `connection_ack`;
 *   `subscribe` → remember (socket, id) under `variables.id` and answer at once with the PROCESSING
 *   snapshot `next` of a payout the bench registered (`POST /__payouts`; an unknown payout gets an
 *   `error` frame); `complete` from the client forgets the subscription; `ping` → `pong`.
 * - `POST /webhooks/zopay`: raw body → `verifyWebhook` → `parseWebhookEvent` (the gateway's own
 *   functions) → 200 `{"status":"accepted"}` → then, for every subscriber of that payout,
 *   `next` (JSON.stringify per subscriber, the same bytes graphql-ws sends) and, for a final status,
 *   `complete`.
 *
 * Run as a child by bench/run.ts (ZOPAY_WEBHOOK_SECRET; PORT optional).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, WebSocket } from 'ws';
import { verifyWebhook } from '../src/zopay/webhook-signature.js';
import { isFinalStatus } from '../src/zopay/types.js';
import { parseWebhookEvent, WebhookPayloadError } from '../src/zopay/wire.js';
import { announceReady, answerQuestions, exitWithParent, gcStatsHandlers, requiredEnv } from './lib/child.js';
import { closeServer, listen, readBody, sendJson, serve } from './lib/http-server.js';
import { GRAPHQL_TRANSPORT_WS, WS_PATH, completeFrame, nextFrame, payoutStatusFields, type PayoutStatusFields } from './lib/ws-protocol.js';

export const WS_BASELINE_PATHS = { webhook: '/webhooks/zopay', payouts: '/__payouts' } as const;

interface Watcher {
  socket: WebSocket;
  id: string;
}

export async function startWsBaseline(opts: { webhookSecrets: readonly string[]; port?: number; host?: string }) {
  /** Payouts the bench registered: their current snapshot. */
  const payouts = new Map<string, PayoutStatusFields>();
  const watchers = new Map<string, Watcher[]>();

  function onSubscribe(socket: WebSocket, id: string, payoutId: unknown): void {
    const known = typeof payoutId === 'string' ? payouts.get(payoutId) : undefined;
    if (!known || typeof payoutId !== 'string') {
      socket.send(JSON.stringify({ id, type: 'error', payload: [{ message: 'No payout with this id.' }] }));
      return;
    }
    let list = watchers.get(payoutId);
    if (!list) {
      list = [];
      watchers.set(payoutId, list);
    }
    list.push({ socket, id });
    socket.send(nextFrame(id, known));
  }

  function forget(socket: WebSocket, id: string): void {
    for (const [payoutId, list] of watchers) {
      const i = list.findIndex((w) => w.socket === socket && w.id === id);
      if (i < 0) continue;
      list.splice(i, 1);
      if (list.length === 0) watchers.delete(payoutId);
      return;
    }
  }

  function webhook(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const h = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const verified = verifyWebhook({ rawBody: raw, signature: h('x-zo-signature'), timestamp: h('x-zo-timestamp'), secrets: opts.webhookSecrets, nowMs: Date.now() });
    if (!verified.ok) return sendJson(res, 401, { error: 'invalid signature' });
    let event;
    try {
      event = parseWebhookEvent(raw.toString('utf8'));
    } catch (err) {
      if (err instanceof WebhookPayloadError) return sendJson(res, 400, { error: 'malformed payload' });
      throw err;
    }
    sendJson(res, 200, { status: 'accepted' });
    if (event.kind !== 'payout') return;
    const p = event.payout;
    const known = payouts.get(p.id);
    // Like the gateway: a payout it never saw is recorded, not published.
    if (!known) return;
    const final = isFinalStatus(p.status);
    const fields = payoutStatusFields({
      id: p.id,
      status: p.status,
      isFinal: final,
      amount: p.amount ?? known.amount,
      currency: p.currency ?? known.currency,
      completedAt: final ? (p.completedAt ?? null) : null,
    });
    const list = watchers.get(p.id) ?? [];
    for (const w of list) {
      if (w.socket.readyState !== WebSocket.OPEN) continue;
      w.socket.send(nextFrame(w.id, fields));
      if (final) w.socket.send(completeFrame(w.id));
    }
    if (final) {
      watchers.delete(p.id);
      payouts.delete(p.id);
    } else {
      payouts.set(p.id, fields);
    }
  }

  const server = serve(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST') return sendJson(res, 404, { error: 'not found' });
    const raw = await readBody(req, 10_000_000);
    if (path === WS_BASELINE_PATHS.webhook) return webhook(req, res, raw);
    if (path === WS_BASELINE_PATHS.payouts) {
      const list = JSON.parse(raw.toString('utf8')) as PayoutStatusFields[];
      for (const p of list) payouts.set(p.id, payoutStatusFields(p));
      return sendJson(res, 200, { registered: list.length });
    }
    return sendJson(res, 404, { error: 'not found' });
  });

  const wss = new WebSocketServer({ server, path: WS_PATH, handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS) ? GRAPHQL_TRANSPORT_WS : false) });
  wss.on('connection', (socket) => {
    let acked = false;
    socket.on('message', (data) => {
      let msg: { type?: unknown; id?: unknown; payload?: { variables?: { id?: unknown } } };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return socket.close(4400, 'Invalid message received');
      }
      switch (msg.type) {
        case 'connection_init':
          if (acked) return socket.close(4429, 'Too many initialisation requests');
          acked = true;
          return socket.send(JSON.stringify({ type: 'connection_ack' }));
        case 'subscribe':
          if (!acked) return socket.close(4401, 'Unauthorized');
          if (typeof msg.id !== 'string') return socket.close(4400, 'Invalid message received');
          return onSubscribe(socket, msg.id, msg.payload?.variables?.id);
        case 'complete':
          if (typeof msg.id === 'string') forget(socket, msg.id);
          return;
        case 'ping':
          return socket.send(JSON.stringify({ type: 'pong' }));
        default:
          return;
      }
    });
  });

  const url = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  return {
    url,
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server);
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const baseline = await startWsBaseline({ webhookSecrets: [requiredEnv('ZOPAY_WEBHOOK_SECRET')], port: Number(process.env['PORT'] ?? 0) });
  exitWithParent(() => baseline.close());
  answerQuestions({ ...gcStatsHandlers() });
  announceReady(baseline.url);
}
