/**
 * The /api/v1 pipeline: record → bounded body → authenticate → rate limit → route → fault → answer.
 * Faults apply only to authenticated, admitted requests on a known route, so a fault never hides an auth
 * or rate-limit answer and `times` counts requests that could really have been served.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './auth.js';
import { recordRequest, type Core } from './core.js';
import type { FaultDecision } from './faults.js';
import { flattenHeaders, queryObject, readBody, sendReply } from './http.js';
import { ERROR_CODES, errorReply, rateLimitedReply, type Reply } from './reply.js';
import type { ApiContext, ApiRequest } from './routes/context.js';
import { matchRoute, type RouteMatch } from './routes/index.js';
import type { RecordedRequest } from './types.js';

export async function handleApi(core: Core, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '/';
  const qIndex = rawUrl.indexOf('?');
  const path = qIndex === -1 ? rawUrl : rawUrl.slice(0, qIndex);
  const query = queryObject(new URLSearchParams(qIndex === -1 ? '' : rawUrl.slice(qIndex + 1)));
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(method, path);
  const record: RecordedRequest = {
    at: core.opts.now(),
    method,
    path,
    query,
    headers: flattenHeaders(req.headers),
    body: '',
    status: 0,
    route: match?.name ?? 'unknown',
  };
  recordRequest(core, record);
  const answer = (reply: Reply) => {
    record.status = reply.status;
    sendReply(res, reply);
    core.opts.log(`${method} ${path} ${reply.status}${record.fault ? ` fault=${record.fault}` : ''}`);
  };

  const read = await readBody(req);
  if (!read.ok) {
    answer(errorReply(413, ERROR_CODES.PAYLOAD_TOO_LARGE, 'Request body too large'));
    res.once('finish', () => req.destroy());
    return;
  }
  record.body = read.text;

  const now = core.opts.now();
  const auth = authenticate(
    { method, path, query, rawBody: read.text, headers: record.headers },
    {
      apiKey: core.opts.apiKey,
      apiSecret: core.opts.apiSecret,
      allowedOrigins: core.opts.allowedOrigins,
      nonces: core.nonces,
      now,
    },
  );
  if (!auth.ok) return answer(auth.reply);
  const admitted = core.limiter.take(auth.apiKey, now);
  if (!admitted.allowed) return answer(rateLimitedReply(admitted.retryAfterSeconds));
  if (!match) return answer(errorReply(404, ERROR_CODES.NOT_FOUND, 'Route not found'));

  let body: unknown;
  if (read.text !== '' && method !== 'GET') {
    try {
      body = JSON.parse(read.text);
    } catch {
      return answer(errorReply(400, ERROR_CODES.VALIDATION_ERROR, 'Request body is not valid JSON'));
    }
  }
  const key = (body as { idempotency_key?: unknown } | undefined)?.idempotency_key;
  if (match.name === 'execute' && typeof key === 'string') record.idempotencyKey = key;

  const apiReq: ApiRequest = { method, path, query, body, params: match.params };
  const fault = core.faults.take(match.name) ?? (match.name === 'execute' ? core.faults.magic(body, now) : null);
  if (fault) record.fault = fault.kind;
  await respond(core, match, apiReq, fault, { req, res, answer });
}

interface Wire {
  req: IncomingMessage;
  res: ServerResponse;
  answer: (r: Reply) => void;
}

async function respond(core: Core, match: RouteMatch, apiReq: ApiRequest, fault: FaultDecision | null, w: Wire) {
  const ctx: ApiContext = { opts: core.opts, ledger: core.ledger, lifecycle: core.lifecycle };
  const run = (): Reply => {
    try {
      return match.handler(ctx, apiReq);
    } catch (err) {
      core.opts.log(`internal error on ${match.name}: ${err instanceof Error ? err.message : String(err)}`);
      return errorReply(500, ERROR_CODES.INTERNAL_ERROR, 'Internal server error');
    }
  };
  const drop = (why: string) => {
    core.opts.log(`${apiReq.method} ${apiReq.path} ${why}`);
    w.req.socket.destroy();
  };
  switch (fault?.kind) {
    case undefined:
      return w.answer(run());
    case 'http500':
      return w.answer(errorReply(500, ERROR_CODES.INTERNAL_ERROR, 'Internal server error'));
    case 'http503':
      return w.answer(errorReply(503, ERROR_CODES.SERVICE_UNAVAILABLE, 'Service temporarily unavailable'));
    case 'rate429':
      return w.answer(rateLimitedReply(fault.retryAfterSeconds));
    case 'resetBeforeCommit':
      return drop('reset before commit (fault)');
    case 'slow':
      // The work happens after the delay whether or not the client is still waiting, as on a real server.
      await core.scheduler.sleep(fault.delayMs);
      return w.answer(run());
    case 'commitThenReset':
      run();
      return drop('committed, then reset (fault)');
    case 'commitThenHang':
      run();
      // No answer: the socket stays open until the client gives up or the sandbox closes.
      core.opts.log(`${apiReq.method} ${apiReq.path} committed, never answered (fault)`);
      return;
  }
}
