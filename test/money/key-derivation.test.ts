import { describe, expect, it } from 'vitest';
import { idempotencyScope, inputFingerprint, upstreamIdempotencyKey } from '../../src/services/execute.js';

// These values are a contract between gateway versions: during a rolling deploy an old and a new instance
// must derive the same Redis scope and the same ZoPay idempotency_key for a retry, or ZoPay would see a
// new key and pay a second time. Pinned from the derivation as first shipped (SHA-256, base64url).
describe('idempotency key derivation is stable across releases', () => {
  it('derives the pinned scope, upstream key and fingerprint', () => {
    expect(idempotencyScope('merchant-42', 'order-2026-0001')).toBe('UQ_dsizKvwtCSE_b4OVxEgQ_SjCs7HvB16_sZVebN80');
    expect(upstreamIdempotencyKey('merchant-42', 'order-2026-0001')).toBe('gw_NVE5mqFX0rjjPLAE3zKzeNYadI25TOoIdc8qunVj2jc');
    expect(inputFingerprint({ quoteId: 'q_8f3a', idempotencyKey: 'ignored', recipientMsisdn: '+237670000001' })).toBe(
      'sdXTHGJ5I0q1AMrEWCQzG-eaHhYBmOUu9hNVEJ-5I8A',
    );
  });

  it('separates callers and keys that would concatenate to the same text', () => {
    expect(upstreamIdempotencyKey('ab', 'c')).not.toBe(upstreamIdempotencyKey('a', 'bc'));
    expect(idempotencyScope('ab', 'c')).not.toBe(idempotencyScope('a', 'bc'));
    expect(idempotencyScope('alice', 'k1')).not.toBe(idempotencyScope('bob', 'k1'));
    // The fingerprint covers the input, not the key: the same key with another recipient is a reuse.
    expect(inputFingerprint({ quoteId: 'q1', idempotencyKey: 'k', recipientMsisdn: '+237670000001' })).not.toBe(
      inputFingerprint({ quoteId: 'q1', idempotencyKey: 'k', recipientMsisdn: '+237670000002' }),
    );
  });
});
