import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.js';
import type { WebhookDeliveryStore } from '../stores/types.js';
import { MAX_KEY_PART_LENGTH } from '../stores/validate.js';
import { parseWebhookEvent, WebhookPayloadError } from '../zopay/wire.js';
import { verifyWebhook } from '../zopay/webhook-signature.js';
import type { Payout, PayoutStatus } from '../zopay/types.js';
import type { EventBus } from '../events/types.js';
import { BodyTooLargeError, declaredTooLarge, readCappedBody } from '../http/body.js';
import { sendJson } from '../http/respond.js';

export interface WebhookHandlerDeps {
  /** The current secret, then the previous one while a rotation lasts. */
  secrets: readonly string[];
  /** When the secrets after the first stop being accepted (the end of the rotation window); unset: never. */
  previousSecretsUntilMs?: number;
  maxBodyBytes: number;
  dedupeTtlSeconds: number;
  deliveries: WebhookDeliveryStore;
  bus: EventBus;
  /**
   * The bus channel of a payout when the delivery store and the bus share one Redis: the store then
   * publishes an advance in the same script that records it (one round trip per webhook). Without it
   * (memory), the handler publishes through the bus after recording.
   */
  publishChannel?: (payoutId: string) => string;
  log: Logger;
  clock: { now(): number };
  /**
   * Conflicting finals: ask ZoPay (GET) and record what it says; undefined when ZoPay does not know the
   * payout. `read` is ZoPay's answer, `conflict` whether it too contradicts the stored final.
   */
  reconcile: (payoutId: string) => Promise<{ read: PayoutStatus; conflict: boolean } | undefined>;
  /** A webhook brought another final status than the stored one (counted for alerting). */
  onFinalConflict?: (source: 'webhook') => void;
  /** Longest wait for the publish before answering anyway (the event is already recorded). */
  publishTimeoutMs?: number;
  onOutcome?: (outcome: WebhookOutcome) => void;
}

export type WebhookOutcome = 'accepted' | 'duplicate' | 'ignored' | 'rejected' | 'too_large' | 'unavailable' | 'malformed';

/**
 * POST /webhooks/zopay: raw bytes → size cap → verify → dedupe + apply + publish (one atomic step on
 * Redis; with the memory stores the publish follows) → 2xx. 2xx only once the event is recorded; 503 when
 * it cannot be (ZoPay retries). Nothing is recorded or published for a delivery that fails verification.
 */
export function createWebhookHandler(deps: WebhookHandlerDeps) {
  const outcome = (o: WebhookOutcome) => deps.onOutcome?.(o);
  const currentOnly = deps.secrets.slice(0, 1);

  return async (req: IncomingMessage, res: ServerResponse, log: Logger = deps.log): Promise<void> => {
    if (declaredTooLarge(req, deps.maxBodyBytes)) {
      outcome('too_large');
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: 'payload too large' });
    }
    let raw: Buffer;
    try {
      raw = await readCappedBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        outcome('too_large');
        res.setHeader('connection', 'close');
        return sendJson(res, 413, { error: 'payload too large' });
      }
      throw err;
    }

    const nowMs = deps.clock.now();
    const verified = verifyWebhook({
      rawBody: raw,
      signature: header(req, 'x-zo-signature'),
      timestamp: header(req, 'x-zo-timestamp'),
      secrets: deps.previousSecretsUntilMs === undefined || nowMs < deps.previousSecretsUntilMs ? deps.secrets : currentOnly,
      nowMs,
    });
    if (!verified.ok) {
      outcome('rejected');
      log.warn({ reason: verified.reason }, 'webhook rejected');
      // The reason is logged, not returned: an attacker learns nothing about which check failed.
      return sendJson(res, 401, { error: 'invalid signature' });
    }

    let event;
    try {
      event = parseWebhookEvent(raw.toString('utf8'));
    } catch (err) {
      if (!(err instanceof WebhookPayloadError)) throw err;
      outcome('malformed');
      log.error({ reason: err.reason }, 'signed webhook with an unreadable body');
      return sendJson(res, 400, { error: 'malformed payload' });
    }

    if (event.kind === 'payout' && event.payout.id.length > MAX_KEY_PART_LENGTH) {
      // Longer than any payout id the gateway records, so not one of its payouts (as for an unknown id, T28).
      outcome('ignored');
      log.warn({ payoutIdLength: event.payout.id.length }, 'webhook for a payout id longer than any the gateway records; ignored');
      return sendJson(res, 200, { status: 'ignored' });
    }

    // Delivery ids are stable across ZoPay's retries and replays; without one, the event itself is the key.
    const deliveryId = deliveryKey(
      header(req, 'x-zo-delivery-id') ||
        (event.kind === 'payout' ? `derived:${event.event}:${event.payout.id}:${event.payout.status}` : undefined),
    );

    try {
      if (event.kind === 'ignored') {
        if (deliveryId) await deps.deliveries.recordIgnored(deliveryId, deps.dedupeTtlSeconds);
        outcome('ignored');
        return sendJson(res, 200, { status: 'ignored' });
      }
      const recorded = await deps.deliveries.recordDelivery({
        deliveryId: deliveryId as string,
        payout: event.payout,
        dedupeTtlSeconds: deps.dedupeTtlSeconds,
        ...(deps.publishChannel ? { publishTo: deps.publishChannel(event.payout.id) } : {}),
      });
      if (recorded.duplicate) {
        outcome('duplicate');
        return sendJson(res, 200, { status: 'duplicate' });
      }
      const { outcome: applied, current } = recorded.result;
      log.info({ payoutId: event.payout.id, event: event.event, applied, replay: header(req, 'x-zo-replay') === 'true' }, 'webhook recorded');
      if (applied === 'conflict') {
        log.error(
          { payoutId: event.payout.id, stored: current.status, received: event.payout.status },
          'CONFLICTING FINAL STATUS from ZoPay webhook; keeping the stored final and asking ZoPay',
        );
        deps.onFinalConflict?.('webhook');
        void checkConflict(deps, log, event.payout.id, current.status);
      }
      // 'created' means the gateway never saw this payout (not executed here): recorded, not published (T28).
      if (applied === 'advanced' && !recorded.published) {
        // An operator problem (e.g. a Redis user without PUBLISH rights): loud, and the bus still tries.
        if (recorded.publishError) log.error({ payoutId: event.payout.id, reason: recorded.publishError }, 'the record script could not publish the advance');
        await publishWithin(deps, current, log);
      }
      outcome('accepted');
      return sendJson(res, 200, { status: 'accepted' });
    } catch (err) {
      outcome('unavailable');
      log.error({ err: err instanceof Error ? err.name : 'unknown' }, 'webhook could not be recorded; answering 503 so ZoPay retries');
      return sendJson(res, 503, { error: 'temporarily unavailable' });
    }
  };
}

/**
 * What ZoPay's own read says of a payout a webhook gave two finals. Either way the stored final stays (a
 * final never changes; clients may have acted on it): the log says whether the read backs it, and a read
 * that contradicts it is logged and counted as a conflict of its own by the service.
 */
async function checkConflict(deps: WebhookHandlerDeps, log: Logger, payoutId: string, stored: PayoutStatus): Promise<void> {
  try {
    const checked = await deps.reconcile(payoutId);
    if (!checked) log.error({ payoutId, stored }, 'ZoPay does not know the payout of a conflicting webhook; the stored final is kept');
    else if (!checked.conflict) log.warn({ payoutId, stored, read: checked.read }, 'ZoPay\'s read does not contradict the stored final; the conflicting webhook is ignored');
  } catch (err) {
    log.error({ err: err instanceof Error ? err.name : 'unknown', payoutId, stored }, 'could not read the payout of a conflicting webhook; the stored final is kept');
  }
}

/** The event is recorded: a slow or failed publish must not make ZoPay retry (subscribers reconcile). */
async function publishWithin(deps: WebhookHandlerDeps, payout: Payout, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deps.publishTimeoutMs ?? 250)));
  try {
    const result = await Promise.race([deps.bus.publish(payout).then(() => 'ok' as const), timeout]);
    if (result === 'timeout') log.warn({ payoutId: payout.id }, 'publish slow; answered anyway');
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.name : 'unknown', payoutId: payout.id }, 'publish failed; subscribers will reconcile');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The delivery's dedupe key. It goes into a store key, so an id too long for one is kept by its hash:
 * stable across retries all the same (a store refusing it would answer 503 to every retry, for ever).
 */
function deliveryKey(id: string | undefined): string | undefined {
  if (!id) return undefined;
  return id.length <= MAX_KEY_PART_LENGTH ? id : `sha256:${hash('sha256', id, 'base64url')}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
