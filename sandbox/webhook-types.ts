/** Delivery records, shaped after ZoPay's own delivery log ([SRC] features/webhooks, zopay-api.md §3.9). */

export type DeliveryStatus = 'PENDING' | 'RETRYING' | 'DELIVERED' | 'FAILED';

export interface WebhookAttempt {
  /** Sandbox clock (ms) when the attempt started. */
  at: number;
  /** The receiver's HTTP status, or null when none came back (dropped, timeout, connection error). */
  statusCode: number | null;
  /** Why the attempt failed without a status: 'dropped', 'timeout', or the connection error's message. */
  error: string | null;
  replay: boolean;
}

export interface DeliveryRecord {
  /** Sent as X-Zo-Delivery-Id; stable across retries, duplicates and replays. */
  id: string;
  event: string;
  payoutId: string;
  url: string;
  /** The exact raw body sent on every attempt (only headers change between attempts). */
  body: string;
  status: DeliveryStatus;
  /** Scheduled attempts made so far (duplicates and replays excluded). */
  attemptCount: number;
  attempts: WebhookAttempt[];
  /** Extra copies sent by the duplicate fault. */
  duplicatesSent: number;
  createdAt: number;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  movedToDlqAt: number | null;
  replayed: boolean;
}
