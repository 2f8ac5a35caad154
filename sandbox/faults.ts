/**
 * Request faults: rules injected by tests or the control API, and magic inputs (recipient numbers
 * 2376X00000{10..16}, idempotency keys starting `sandbox-fault-<kind>-`) that fault the first execute
 * attempt of each idempotency key, so a client retry with the same key then succeeds.
 */
import { z } from 'zod';
import { behaviourOf } from './test-numbers.js';
import { FAULT_KINDS, type FaultKind, type FaultRule, type RouteName, type WebhookFaults } from './types.js';

export const faultRuleSchema = z.object({
  route: z.enum(['quote', 'execute', 'get', 'list', 'any']),
  kind: z.enum(FAULT_KINDS),
  times: z.number().int().min(1).max(1_000_000),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  retryAfterSeconds: z.number().int().min(1).max(3_600).optional(),
});

export const webhookFaultsSchema = z.object({
  dropRate: z.number().min(0).max(1).optional(),
  duplicateCount: z.number().int().min(0).max(10).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  outOfOrder: z.boolean().optional(),
});

export interface FaultDecision {
  kind: FaultKind;
  delayMs: number;
  retryAfterSeconds: number;
}

export interface FaultBook {
  inject(rule: FaultRule): void;
  clear(): void;
  active(): FaultRule[];
  /** Consumes one use of the oldest armed rule matching this route, if any. */
  take(route: RouteName): FaultDecision | null;
  /** The magic-input fault of an execute body, on the first attempt of its idempotency key only. */
  magic(body: unknown, now: number): FaultDecision | null;
}

const DEFAULT_SLOW_MS = 1_000;
const KEY_PREFIX = new RegExp(`^sandbox-fault-(${FAULT_KINDS.join('|')})(?:-|$)`);
/** Keys that already had their magic fault; forgotten after a day, like ZoPay's idempotency keys. */
const FIRED_RETENTION_MS = 24 * 60 * 60 * 1000;

const decision = (kind: FaultKind, delayMs?: number, retryAfterSeconds?: number): FaultDecision => ({
  kind,
  delayMs: delayMs ?? DEFAULT_SLOW_MS,
  retryAfterSeconds: retryAfterSeconds ?? 1,
});

export function createFaultBook(): FaultBook {
  let rules: FaultRule[] = [];
  const fired = new Map<string, number>();

  const magicFor = (body: unknown): FaultDecision | null => {
    if (typeof body !== 'object' || body === null) return null;
    const b = body as { idempotency_key?: unknown; recipient?: { msisdn?: unknown } };
    const key = b.idempotency_key;
    const fromKey = typeof key === 'string' ? KEY_PREFIX.exec(key)?.[1] : undefined;
    if (fromKey) return decision(fromKey as FaultKind);
    const msisdn = b.recipient?.msisdn;
    const f = typeof msisdn === 'string' ? behaviourOf(msisdn)?.executeFault : undefined;
    return f ? decision(f.kind, f.delayMs, f.retryAfterSeconds) : null;
  };

  return {
    inject(rule) {
      rules.push({ ...faultRuleSchema.parse(rule) });
    },
    clear() {
      rules = [];
    },
    active: () => rules.map((r) => ({ ...r })),
    take(route) {
      const rule = rules.find((r) => r.route === 'any' || r.route === route);
      if (!rule) return null;
      rule.times -= 1;
      if (rule.times <= 0) rules = rules.filter((r) => r !== rule);
      return decision(rule.kind, rule.delayMs, rule.retryAfterSeconds);
    },
    magic(body, now) {
      for (const [k, at] of fired) {
        if (now - at <= FIRED_RETENTION_MS) break;
        fired.delete(k);
      }
      const d = magicFor(body);
      const key = (body as { idempotency_key?: unknown }).idempotency_key;
      if (!d || typeof key !== 'string' || fired.has(key)) return null;
      fired.set(key, now);
      return d;
    },
  };
}

export function validateWebhookFaults(f: WebhookFaults): WebhookFaults {
  return webhookFaultsSchema.parse(f);
}
