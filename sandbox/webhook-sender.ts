/**
 * One signed POST of a webhook body. Each attempt gets a fresh timestamp and signature (§9 #16), so a
 * retry hours later still passes the receiver's 5-minute window; the delivery id and body never change.
 */
import { Agent, request } from 'undici';
import { signedWebhookHeaders } from '../src/zopay/webhook-signature.js';
import type { Scheduler } from './scheduler.js';

export type SendResult = { statusCode: number; error: null } | { statusCode: null; error: string };

export interface SendInput {
  url: string;
  body: string;
  event: string;
  deliveryId: string;
  replay: boolean;
}

export interface WebhookSender {
  send(input: SendInput): Promise<SendResult>;
  /** Aborts attempts in flight and closes pooled connections. */
  close(): Promise<void>;
}

export function createWebhookSender(deps: {
  secret: string;
  timeoutMs: number;
  now: () => number;
  scheduler: Scheduler;
}): WebhookSender {
  // A private pool: close() can destroy it without touching anyone else's connections.
  const agent = new Agent({ keepAliveTimeout: 1_000, connect: { timeout: deps.timeoutMs } });
  const inFlight = new Set<AbortController>();

  return {
    async send(input) {
      const headers = signedWebhookHeaders({
        secret: deps.secret,
        rawBody: input.body,
        event: input.event,
        deliveryId: input.deliveryId,
        timestampMs: deps.now(),
        replay: input.replay,
      });
      const controller = new AbortController();
      let timedOut = false;
      const cancelTimer = deps.scheduler.after(deps.timeoutMs, () => {
        timedOut = true;
        controller.abort();
      });
      inFlight.add(controller);
      try {
        const res = await request(input.url, {
          method: 'POST',
          headers,
          body: input.body,
          dispatcher: agent,
          signal: controller.signal,
        });
        // Only the status matters; read a little of the body so the connection can be reused.
        await res.body.dump({ limit: 16_384 });
        return { statusCode: res.statusCode, error: null };
      } catch (err) {
        if (timedOut) return { statusCode: null, error: 'timeout' };
        return { statusCode: null, error: err instanceof Error ? err.message : String(err) };
      } finally {
        cancelTimer();
        inFlight.delete(controller);
      }
    },
    async close() {
      for (const c of inFlight) c.abort();
      inFlight.clear();
      await agent.destroy();
    },
  };
}
