import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signedWebhookHeaders, signWebhook, verifyWebhook } from '../../src/zopay/webhook-signature.js';

// zopay-api.md §5.3 vector.
const SECRET = 'whsec_test123';
const TIMESTAMP = '1769164241000';
const BODY =
  '{"event":"payout.completed","data":{"payout_id":"660e8400-e29b-41d4-a716-446655440001","status":"SUCCESS"},"timestamp":"2026-01-18T23:30:00.000Z"}';
const SIGNATURE = '4605b78a65f41af31635a628366b37dde21d6eafe9e451aa48eb2ed159b86719';
const NOW = Number(TIMESTAMP);

const verify = (over: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
  verifyWebhook({ rawBody: BODY, signature: SIGNATURE, timestamp: TIMESTAMP, secrets: [SECRET], nowMs: NOW, ...over });

describe('webhook signatures: §5.3 vector', () => {
  it('signs timestamp + "." + raw body to the published hex', () => {
    expect(signWebhook(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(signWebhook(SECRET, TIMESTAMP, Buffer.from(BODY))).toBe(SIGNATURE);
  });

  it('accepts the vector at its own timestamp', () => {
    expect(verify()).toEqual({ ok: true, timestampMs: NOW });
  });

  it.each([-299_000, 299_000, -300_000, 300_000])('accepts a delivery %i ms away from our clock', (skew) => {
    expect(verify({ nowMs: NOW + skew }).ok).toBe(true);
  });

  it.each([-301_000, 301_000])('rejects a delivery %i ms away from our clock', (skew) => {
    expect(verify({ nowMs: NOW + skew })).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' });
  });
});

describe('webhook signatures: rejections', () => {
  it.each([
    ['no signature', { signature: undefined }, 'MISSING_SIGNATURE'],
    ['empty signature', { signature: '' }, 'MISSING_SIGNATURE'],
    ['no timestamp', { timestamp: undefined }, 'MISSING_TIMESTAMP'],
    ['seconds-with-letters timestamp', { timestamp: '17691642x1000' }, 'MALFORMED_TIMESTAMP'],
    ['negative timestamp', { timestamp: '-1769164241000' }, 'MALFORMED_TIMESTAMP'],
    ['sha256= prefix', { signature: `sha256=${SIGNATURE}` }, 'MALFORMED_SIGNATURE'],
    ['upper-case hex', { signature: SIGNATURE.toUpperCase() }, 'MALFORMED_SIGNATURE'],
    ['63 characters', { signature: SIGNATURE.slice(1) }, 'MALFORMED_SIGNATURE'],
    ['65 characters', { signature: `${SIGNATURE}0` }, 'MALFORMED_SIGNATURE'],
    ['128 characters', { signature: SIGNATURE + SIGNATURE }, 'MALFORMED_SIGNATURE'],
  ] as const)('rejects %s without throwing', (_name, over, reason) => {
    expect(verify(over)).toEqual({ ok: false, reason });
  });

  it('rejects a tampered body with the original signature', () => {
    expect(verify({ rawBody: BODY.replace('SUCCESS', 'FAILED') })).toEqual({ ok: false, reason: 'SIGNATURE_MISMATCH' });
  });

  it('rejects a re-serialised body (whitespace differs from the signed bytes)', () => {
    expect(verify({ rawBody: JSON.stringify(JSON.parse(BODY), null, 1) }).ok).toBe(false);
  });

  it('rejects a wrong secret and a changed timestamp', () => {
    expect(verify({ secrets: ['whsec_other'] }).ok).toBe(false);
    expect(verify({ timestamp: String(NOW + 1) }).ok).toBe(false);
  });

  it('rejects when no secret is configured', () => {
    expect(verify({ secrets: [] })).toEqual({ ok: false, reason: 'SIGNATURE_MISMATCH' });
  });
});

describe('webhook signatures: secret rotation', () => {
  it('accepts deliveries signed with either the new or the previous secret', () => {
    const secrets = ['whsec_new', SECRET];
    expect(verify({ secrets }).ok).toBe(true);
    const fromNew = signedWebhookHeaders({ secret: 'whsec_new', rawBody: BODY, event: 'payout.completed', deliveryId: 'd1', timestampMs: NOW });
    expect(verify({ secrets, signature: fromNew['x-zo-signature'] }).ok).toBe(true);
  });

  it('rejects the previous secret once it is dropped from the list', () => {
    expect(verify({ secrets: ['whsec_new'] }).ok).toBe(false);
  });
});

describe('webhook signatures: properties', () => {
  it('round-trips any body through signedWebhookHeaders and rejects any single-character change', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.nat(), fc.string({ minLength: 1, maxLength: 5 }), (body, at, extra) => {
        const headers = signedWebhookHeaders({ secret: SECRET, rawBody: body, event: 'payout.completed', deliveryId: 'd', timestampMs: NOW });
        const base = { signature: headers['x-zo-signature'], timestamp: headers['x-zo-timestamp'], secrets: [SECRET], nowMs: NOW };
        expect(verifyWebhook({ ...base, rawBody: body }).ok).toBe(true);
        const i = at % body.length;
        const tampered = body.slice(0, i) + extra + body.slice(i);
        expect(verifyWebhook({ ...base, rawBody: tampered }).ok).toBe(false);
      }),
    );
  });
});
