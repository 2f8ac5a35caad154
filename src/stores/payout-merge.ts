import { isFinalStatus, statusRank, type Payout } from '../zopay/types.js';
import type { ApplyOutcome } from './types.js';

/**
 * Monotonic application of a payout snapshot: the single definition of the rules. The Redis store runs
 * the same rules in Lua (redis/scripts.ts); the shared contract tests keep both in step.
 *
 * - nothing stored: `created`.
 * - stored status final and the incoming one differs: `conflict` if it is another final, else `stale`.
 * - incoming status ranks below the stored one: `stale`.
 * Nothing is written in those cases.
 * - same status: fields the store does not know yet (absent, or null where a value arrives) are filled
 *   in, and a failure known only by its reason gives way to one with a code; known values are kept. `unchanged`.
 * - higher rank: `advanced`; the incoming values win, except that a null never erases a stored value.
 */
export function mergePayout(
  current: Payout | undefined,
  incoming: Payout,
): { outcome: ApplyOutcome; next: Payout; write: boolean } {
  if (current === undefined) return { outcome: 'created', next: incoming, write: true };
  if (incoming.status !== current.status) {
    if (isFinalStatus(current.status)) {
      return { outcome: isFinalStatus(incoming.status) ? 'conflict' : 'stale', next: current, write: false };
    }
    if (statusRank(incoming.status) < statusRank(current.status)) {
      return { outcome: 'stale', next: current, write: false };
    }
  }
  const advancing = incoming.status !== current.status;
  const merged: Record<string, unknown> = { ...current };
  let changed = false;
  for (const [key, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const known = merged[key];
    if (!advancing && key === 'failure' && codeless(known) && typeof (value as { code?: unknown } | null)?.code === 'string') {
      // A webhook gives a failure's reason only; a read of the same final brings the code with ZoPay's
      // own message: take that failure whole (a code is never glued to another message).
      merged[key] = value;
      changed = true;
      continue;
    }
    const take = advancing
      ? value !== null || known === undefined
      : known === undefined || (known === null && value !== null);
    if (take && known !== value) {
      merged[key] = value;
      changed = true;
    }
  }
  // Both inputs are valid payouts and every field came from one of them.
  const next = merged as unknown as Payout;
  return { outcome: advancing ? 'advanced' : 'unchanged', next, write: changed || advancing };
}

function codeless(value: unknown): value is { message: string } {
  return typeof value === 'object' && value !== null && (value as { code?: unknown }).code === undefined;
}
