/**
 * Webhook deliveries with ZoPay's retry schedule (§5.5, §9 #17): up to 6 attempts at 0, +1 m, +5 m,
 * +15 m, +1 h, +6 h (divided by the time scale), any non-2xx, timeout or connection error counting as a
 * failure, then the dead-letter queue. WebhookFaults and the magic numbers' webhook faults apply here.
 */
import { randomUUID } from 'node:crypto';
import type { PayoutRecord } from './ledger.js';
import type { Scheduler } from './scheduler.js';
import type { SandboxWebhooks, WebhookFaults } from './types.js';
import type { DeliveryRecord } from './webhook-types.js';
import { finalEvent, staleProcessingEvent } from './webhook-payload.js';
import type { SendResult, WebhookSender } from './webhook-sender.js';

/** Delay before attempt n+1 (index n), in real ms at time scale 1. */
export const RETRY_DELAYS_MS = [0, 60_000, 300_000, 900_000, 3_600_000, 21_600_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length;

export interface WebhookDeps {
  url: string | null;
  timeScale: number;
  now: () => number;
  random: () => number;
  scheduler: Scheduler;
  sender: WebhookSender;
  log: (line: string) => void;
}

interface Delivery {
  record: DeliveryRecord;
  dropFirstAttempt: boolean;
  duplicateCount: number;
  /** The payout to send a stale event for after the first attempt, if out-of-order applies. */
  staleFor: PayoutRecord | null;
  cancelNext: (() => void) | null;
}

export interface WebhookDispatcher {
  /** A payout reached SUCCESS or FAILED. */
  payoutFinal(p: PayoutRecord): void;
  setFaults(f: WebhookFaults): void;
  api: SandboxWebhooks;
}

const is2xx = (r: SendResult) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;

export function createWebhookDispatcher(deps: WebhookDeps): WebhookDispatcher {
  let url = deps.url;
  let faults: WebhookFaults = {};
  const deliveries = new Map<string, Delivery>();

  const create = (event: { event: string; body: string }, p: PayoutRecord, opts: Partial<Delivery>): Delivery | null => {
    if (url === null || deps.scheduler.closed) return null;
    const now = deps.now();
    const d: Delivery = {
      record: {
        id: randomUUID(),
        event: event.event,
        payoutId: p.id,
        url,
        body: event.body,
        status: 'PENDING',
        attemptCount: 0,
        attempts: [],
        duplicatesSent: 0,
        createdAt: now,
        nextAttemptAt: now,
        deliveredAt: null,
        movedToDlqAt: null,
        replayed: false,
      },
      dropFirstAttempt: opts.dropFirstAttempt ?? false,
      duplicateCount: opts.duplicateCount ?? 0,
      staleFor: opts.staleFor ?? null,
      cancelNext: null,
    };
    deliveries.set(d.record.id, d);
    d.cancelNext = deps.scheduler.after(faults.delayMs ?? 0, () => void attempt(d));
    return d;
  };

  const send = async (d: Delivery, replay: boolean, drop: boolean): Promise<SendResult> => {
    const at = deps.now();
    const result: SendResult = drop
      ? { statusCode: null, error: 'dropped' }
      : await deps.sender.send({ url: d.record.url, body: d.record.body, event: d.record.event, deliveryId: d.record.id, replay });
    d.record.attempts.push({ at, statusCode: result.statusCode, error: result.error, replay });
    return result;
  };

  const attempt = async (d: Delivery): Promise<void> => {
    d.cancelNext = null;
    const r = d.record;
    r.attemptCount += 1;
    const n = r.attemptCount;
    const drop = (n === 1 && d.dropFirstAttempt) || deps.random() < (faults.dropRate ?? 0);
    const result = await send(d, false, drop);
    if (deps.scheduler.closed) return;
    deps.log(`webhook ${r.id} ${r.event} attempt ${n}/${MAX_ATTEMPTS} -> ${result.statusCode ?? result.error}`);
    if (is2xx(result)) {
      r.status = 'DELIVERED';
      r.deliveredAt = deps.now();
      r.nextAttemptAt = null;
      const copies = d.duplicateCount + (faults.duplicateCount ?? 0);
      for (let i = 0; i < copies && !deps.scheduler.closed; i++) {
        await send(d, false, false);
        r.duplicatesSent += 1;
      }
    } else if (n < MAX_ATTEMPTS) {
      const delay = (RETRY_DELAYS_MS[n] ?? 0) / deps.timeScale;
      r.status = 'RETRYING';
      r.nextAttemptAt = deps.now() + delay;
      d.cancelNext = deps.scheduler.after(delay, () => void attempt(d));
    } else {
      r.status = 'FAILED';
      r.nextAttemptAt = null;
      r.movedToDlqAt = deps.now();
      deps.log(`webhook ${r.id} ${r.event} dead-lettered after ${n} attempts`);
    }
    if (n === 1 && d.staleFor) create(staleProcessingEvent(d.staleFor), d.staleFor, {});
  };

  const snapshot = (d: Delivery) => structuredClone(d.record);

  return {
    payoutFinal(p) {
      const magic = p.behaviour.webhook ?? {};
      create(finalEvent(p), p, {
        dropFirstAttempt: magic.dropFirstAttempt ?? false,
        duplicateCount: magic.duplicateCount ?? 0,
        staleFor: magic.outOfOrder || faults.outOfOrder ? p : null,
      });
    },
    setFaults(f) {
      faults = { ...f };
    },
    api: {
      deliveries: () => [...deliveries.values()].map(snapshot),
      deadLetters: () => [...deliveries.values()].filter((d) => d.record.status === 'FAILED').map(snapshot),
      async replay(deliveryId) {
        const d = deliveries.get(deliveryId);
        if (!d) throw new Error(`unknown delivery ${deliveryId}`);
        if (url !== null) d.record.url = url;
        const result = await send(d, true, false);
        deps.log(`webhook ${deliveryId} ${d.record.event} replay -> ${result.statusCode ?? result.error}`);
        if (!is2xx(result)) return;
        d.cancelNext?.();
        d.cancelNext = null;
        d.record.status = 'DELIVERED';
        d.record.deliveredAt = deps.now();
        d.record.nextAttemptAt = null;
        d.record.replayed = true;
      },
      setUrl(next) {
        url = next;
      },
    },
  };
}
