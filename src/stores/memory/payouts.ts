import { decodePayout, encodePayout } from '../payout-codec.js';
import { mergePayout } from '../payout-merge.js';
import type {
  ApplyResult,
  Clock,
  PayoutStatusStore,
  RecordDeliveryInput,
  RecordDeliveryResult,
  WebhookDeliveryStore,
} from '../types.js';
import { assertKeyPart, assertPositiveInt } from '../validate.js';
import { TtlMap } from './ttl-map.js';
import type { Payout } from '../../zopay/types.js';

/**
 * In-memory last known status and webhook dedupe. Each method runs synchronously to completion, which
 * makes it as atomic as the Lua scripts of the Redis twin. Payouts are kept as JSON so callers never
 * share (and mutate) stored objects.
 */
export class MemoryPayoutStore implements PayoutStatusStore, WebhookDeliveryStore {
  private readonly payouts: TtlMap<string, string>;
  private readonly deliveries: TtlMap<string, true>;

  constructor(
    clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    assertPositiveInt('payoutTtlSeconds', ttlSeconds);
    this.payouts = new TtlMap(clock);
    this.deliveries = new TtlMap(clock);
  }

  async apply(payout: Payout): Promise<ApplyResult> {
    return this.applyNow(encodePayout(payout));
  }

  async get(payoutId: string): Promise<Payout | undefined> {
    assertKeyPart('payoutId', payoutId);
    return this.read(payoutId);
  }

  async getMany(payoutIds: readonly string[]): Promise<(Payout | undefined)[]> {
    for (const id of payoutIds) assertKeyPart('payoutId', id);
    return payoutIds.map((id) => this.read(id));
  }

  async recordDelivery({ deliveryId, payout, dedupeTtlSeconds }: RecordDeliveryInput): Promise<RecordDeliveryResult> {
    assertKeyPart('deliveryId', deliveryId);
    assertPositiveInt('dedupeTtlSeconds', dedupeTtlSeconds);
    const json = encodePayout(payout);
    const key = deliveryKey(payout.id, deliveryId);
    if (this.deliveries.has(key)) return { duplicate: true };
    const result = this.applyNow(json);
    this.deliveries.set(key, true, dedupeTtlSeconds * 1000);
    // Nothing to publish on: the caller publishes through its (memory) bus.
    return { duplicate: false, result, published: false };
  }

  async recordIgnored(deliveryId: string, ttlSeconds: number): Promise<{ duplicate: boolean }> {
    assertKeyPart('deliveryId', deliveryId);
    assertPositiveInt('ttlSeconds', ttlSeconds);
    const key = `ignored\u0000${deliveryId}`;
    if (this.deliveries.has(key)) return { duplicate: true };
    this.deliveries.set(key, true, ttlSeconds * 1000);
    return { duplicate: false };
  }

  private read(payoutId: string): Payout | undefined {
    const json = this.payouts.get(payoutId);
    return json === undefined ? undefined : decodePayout(json);
  }

  private applyNow(json: string): ApplyResult {
    const incoming = decodePayout(json);
    if (incoming === undefined) throw new TypeError('Invalid payout');
    const { outcome, next, write } = mergePayout(this.read(incoming.id), incoming);
    const nextJson = JSON.stringify(next);
    if (write) this.payouts.set(incoming.id, nextJson, this.ttlSeconds * 1000);
    const current = decodePayout(nextJson);
    if (current === undefined) throw new TypeError('Invalid payout');
    return { outcome, current };
  }
}

function deliveryKey(payoutId: string, deliveryId: string): string {
  return `${payoutId}\u0000${deliveryId}`;
}
