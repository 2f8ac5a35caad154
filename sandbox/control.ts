/**
 * /__sandbox/*: the programmatic controls over plain HTTP, for a separate process such as a chaos harness.
 * Unauthenticated by design: the sandbox binds to 127.0.0.1 by default and holds no real money.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { faultRuleSchema, webhookFaultsSchema } from './faults.js';
import { readBody, sendReply } from './http.js';
import { ERROR_CODES, errorReply, ok, validationReply, type Reply } from './reply.js';
import { fieldErrors } from './routes/context.js';
import type { Sandbox } from './types.js';

export const CONTROL_PREFIX = '/__sandbox';

type Controls = Pick<Sandbox, 'ledger' | 'webhooks' | 'faults' | 'settle' | 'requests'>;

const SettleBody = z.object({
  payout_id: z.string().min(1),
  status: z.enum(['SUCCESS', 'FAILED']),
  error: z.object({ code: z.string().min(1), message: z.string().min(1) }).optional(),
});
const WebhookUrlBody = z.object({ url: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').nullable() });

const REPLAY = /^\/__sandbox\/webhooks\/([^/]+)\/replay$/;

export async function handleControl(c: Controls, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const method = (req.method ?? 'GET').toUpperCase();
  const read = await readBody(req);
  if (!read.ok) return sendReply(res, errorReply(413, ERROR_CODES.PAYLOAD_TOO_LARGE, 'Request body too large'));
  let body: unknown;
  try {
    body = read.text === '' ? {} : JSON.parse(read.text);
  } catch {
    return sendReply(res, errorReply(400, ERROR_CODES.VALIDATION_ERROR, 'Request body is not valid JSON'));
  }
  sendReply(res, await route(c, method, path, body));
}

function parse<T>(schema: z.ZodType<T>, body: unknown, then: (v: T) => Reply): Reply {
  const r = schema.safeParse(body);
  return r.success ? then(r.data) : validationReply(fieldErrors(r.error));
}

async function route(c: Controls, method: string, path: string, body: unknown): Promise<Reply> {
  const at = `${method} ${path}`;
  switch (at) {
    case 'GET /__sandbox/health':
      return ok({ ok: true });
    case 'GET /__sandbox/ledger':
      return ok({ balance: c.ledger.balance(), quotes: c.ledger.quotes(), payouts: c.ledger.payouts() });
    case 'GET /__sandbox/requests':
      return ok({ requests: c.requests });
    case 'GET /__sandbox/faults':
      return ok({ rules: c.faults.active() });
    case 'POST /__sandbox/faults':
      return parse(faultRuleSchema, body, (rule) => {
        c.faults.inject(rule);
        return ok({ rules: c.faults.active() }, 201);
      });
    case 'POST /__sandbox/faults/clear':
      c.faults.clear();
      return ok({ rules: [] });
    case 'POST /__sandbox/webhook-faults':
      return parse(webhookFaultsSchema, body, (f) => {
        c.faults.setWebhookFaults(f);
        return ok({ webhookFaults: f });
      });
    case 'POST /__sandbox/webhook-url':
      return parse(WebhookUrlBody, body, ({ url }) => {
        c.webhooks.setUrl(url);
        return ok({ url });
      });
    case 'GET /__sandbox/webhooks':
      return ok({ deliveries: c.webhooks.deliveries(), deadLetters: c.webhooks.deadLetters() });
    case 'POST /__sandbox/settle':
      return parse(SettleBody, body, (s) => {
        if (!c.ledger.payout(s.payout_id)) return errorReply(404, ERROR_CODES.NOT_FOUND, 'Payout not found');
        try {
          c.settle(s.payout_id, s.status, s.error);
        } catch (err) {
          return errorReply(409, ERROR_CODES.PAYOUT_ALREADY_FINAL, err instanceof Error ? err.message : String(err));
        }
        return ok({ payout: c.ledger.payout(s.payout_id) });
      });
  }
  const replay = method === 'POST' ? REPLAY.exec(path) : null;
  if (replay?.[1] !== undefined) {
    const id = safeDecode(replay[1]);
    if (!c.webhooks.deliveries().some((d) => d.id === id)) {
      return errorReply(404, ERROR_CODES.NOT_FOUND, 'Delivery not found');
    }
    await c.webhooks.replay(id);
    return ok({ delivery: c.webhooks.deliveries().find((d) => d.id === id) });
  }
  return errorReply(404, ERROR_CODES.NOT_FOUND, 'Unknown sandbox control route');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
