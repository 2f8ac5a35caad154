import type { Redis } from 'ioredis';
import { decodePayout, encodePayout } from '../payout-codec.js';
import type {
  ApplyOutcome,
  ApplyResult,
  PayoutStatusStore,
  RecordDeliveryInput,
  RecordDeliveryResult,
  WebhookDeliveryStore,
} from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import type { Payout } from '../../zopay/types.js';
import { replyArray, replyString, storeCall } from './call.js';
import type { RedisKeys } from './keys.js';
import { APPLY_PAYOUT, RECORD_DELIVERY } from './scripts.js';

const OUTCOMES: ReadonlySet<string> = new Set<ApplyOutcome>(['created', 'advanced', 'unchanged', 'stale', 'conflict']);

export class RedisPayoutStore implements PayoutStatusStore, WebhookDeliveryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
  ) {
    assertPositiveInt('payoutTtlSeconds', ttlSeconds);
  }

  async apply(payout: Payout): Promise<ApplyResult> {
    const json = encodePayout(payout);
    const reply = await storeCall('payout apply', () =>
      APPLY_PAYOUT.run(this.redis, [this.keys.status(payout.id)], [json, this.ttlSeconds]),
    );
    return parseApply(replyArray(reply, 'apply'));
  }

  async get(payoutId: string): Promise<Payout | undefined> {
    assertKeyPart('payoutId', payoutId);
    const json = await storeCall('payout get', () => this.redis.get(this.keys.status(payoutId)));
    return json === null ? undefined : decodePayout(json);
  }

  async getMany(payoutIds: readonly string[]): Promise<(Payout | undefined)[]> {
    for (const id of payoutIds) assertKeyPart('payoutId', id);
    if (payoutIds.length === 0) return [];
    const values = await storeCall('payout getMany', () => this.redis.mget(payoutIds.map((id) => this.keys.status(id))));
    return values.map((json) => (json === null ? undefined : decodePayout(json)));
  }

  async recordDelivery({ deliveryId, payout, dedupeTtlSeconds, publishTo }: RecordDeliveryInput): Promise<RecordDeliveryResult> {
    assertKeyPart('deliveryId', deliveryId);
    assertPositiveInt('dedupeTtlSeconds', dedupeTtlSeconds);
    if (publishTo !== undefined && (typeof publishTo !== 'string' || publishTo === '')) throw new TypeError('publishTo must be a channel name');
    const json = encodePayout(payout);
    const keys = [this.keys.delivery(payout.id, deliveryId), this.keys.status(payout.id)];
    const reply = replyArray(
      await storeCall('webhook delivery', () =>
        RECORD_DELIVERY.run(this.redis, keys, [json, this.ttlSeconds, dedupeTtlSeconds, publishTo ?? '']),
      ),
      'recordDelivery',
    );
    if (reply[0] === 'duplicate') return { duplicate: true };
    const publishError = reply[3];
    return {
      duplicate: false,
      result: parseApply(reply),
      published: reply[2] === 1,
      ...(typeof publishError === 'string' && publishError !== '' ? { publishError } : {}),
    };
  }

  async recordIgnored(deliveryId: string, ttlSeconds: number): Promise<{ duplicate: boolean }> {
    assertKeyPart('deliveryId', deliveryId);
    assertPositiveInt('ttlSeconds', ttlSeconds);
    const set = await storeCall('webhook delivery', () =>
      this.redis.set(this.keys.ignoredDelivery(deliveryId), '1', 'EX', ttlSeconds, 'NX'),
    );
    return { duplicate: set === null };
  }
}

/** The reply of the Lua apply_payout function (scripts.ts): outcome, stored json. */
export function parseApply(reply: readonly (string | number)[]): ApplyResult {
  const outcome = replyString(reply[0], 'apply');
  const current = decodePayout(replyString(reply[1], 'apply'));
  if (!OUTCOMES.has(outcome) || current === undefined) throw new Error('Unexpected Redis reply to apply');
  return { outcome: outcome as ApplyOutcome, current };
}
