import type { IdempotencyBeginInput, IdempotencyLockInput } from './types.js';
import { assertKeyPart, assertPositiveInt } from './validate.js';

export function validateBegin(input: IdempotencyBeginInput): void {
  assertKeyPart('scope', input.scope);
  assertKeyPart('fingerprint', input.fingerprint);
  assertKeyPart('lockOwner', input.lockOwner);
  assertPositiveInt('lockTtlMs', input.lockTtlMs);
  assertPositiveInt('recordTtlSeconds', input.recordTtlSeconds);
  if (input.upstreamKey !== undefined) assertKeyPart('upstreamKey', input.upstreamKey);
}

export function validateLock(input: IdempotencyLockInput): void {
  assertKeyPart('scope', input.scope);
  assertKeyPart('lockOwner', input.lockOwner);
}

export function validateComplete(input: IdempotencyLockInput & { result: string; recordTtlSeconds: number }): void {
  validateLock(input);
  assertPositiveInt('recordTtlSeconds', input.recordTtlSeconds);
  if (typeof input.result !== 'string') throw new TypeError('result must be a string');
}
