/**
 * RECIPIENT_COUNTRY_CODES refuses new payments to other countries, never an earlier payment's key: a
 * replay, or a retry of an attempt whose outcome is unknown, still gets the payout, even on an instance
 * whose list no longer holds the recipient's country (a narrowed list, a rolling restart).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { EXECUTE, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';
import { idempotencyScope, inputFingerprint } from '../../src/services/execute.js';

let redis: RedisServerHandle;
let stack: TestStack;
let token: string;

beforeAll(async () => {
  redis = await startRedis();
  // Instance 0 pays Cameroon; instance 1 was narrowed to Ivory Coast only.
  stack = await startStack({ instances: 2, env: { REDIS_URL: redis.url }, instanceEnv: [{ RECIPIENT_COUNTRY_CODES: '237' }, { RECIPIENT_COUNTRY_CODES: '225' }] });
  stack.sandbox.setWebhookUrl(null);
  token = await stack.token('countries-app');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

const executes = () => stack.sandbox.requests.filter((r) => r.route === 'execute').length;
/** Every key in Redis with its serialized value: equal snapshots mean nothing was written. */
async function redisSnapshot(): Promise<Map<string, string>> {
  const client = redis.client();
  const keys = (await client.keys('*')).sort();
  const values = await Promise.all(keys.map(async (k) => (await client.dumpBuffer(k))?.toString('hex') ?? ''));
  return new Map(keys.map((k, i) => [k, values[i] ?? '']));
}
const execute = (instance: number, quoteId: string, idempotencyKey: string) =>
  gql<{ executeDisbursement: { __typename: string; id?: string } }>(stack.gateways[instance]?.url as string, EXECUTE, { input: { quoteId, idempotencyKey, recipient: { msisdn: '+237670000001' } } }, token);

describe('a narrowed RECIPIENT_COUNTRY_CODES', () => {
  it('still replays a key recorded before: the same payout, nothing sent', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateways[0]?.url as string, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    const paid = await execute(0, quoteId, 'countries-replay-1');
    expect(paid.data?.executeDisbursement.__typename).toBe('Payout');
    const before = executes();
    const replay = await execute(1, quoteId, 'countries-replay-1');
    expect(replay.data?.executeDisbursement).toEqual(paid.data?.executeDisbursement);
    expect(replay.extensions).toMatchObject({ idempotentReplay: true });
    expect(executes()).toBe(before);
  });

  it('refuses a new key to a country it no longer pays: BAD_USER_INPUT on the msisdn, nothing written (not even the rate limit), nothing sent', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateways[0]?.url as string, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    const before = executes();
    const stored = await redisSnapshot();
    const refused = await execute(1, quoteId, 'countries-new-1');
    expect(refused.errors?.map((e) => e.extensions)).toEqual([
      { code: 'BAD_USER_INPUT', issues: [{ path: 'input.recipient.msisdn', message: 'Msisdn must be a number of +225: this gateway pays out to no other country.' }] },
    ]);
    expect(executes()).toBe(before);
    // Bad input changes nothing (design §6.7): the caller's mutation budget is not charged either.
    expect(await redisSnapshot()).toEqual(stored);
    // The key was not claimed: the instance that pays Cameroon pays it, once.
    const paid = await execute(0, quoteId, 'countries-new-1');
    expect(paid.data?.executeDisbursement.__typename).toBe('Payout');
    expect(paid.extensions?.['idempotentReplay']).toBeUndefined();
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
  });

  it('refuses a new key that waited for a duplicate which then gave the key back unsent (the begin step saw a record)', async () => {
    const q = await gql<{ createQuote: { id: string } }>(stack.gateways[0]?.url as string, QUOTE, quoteInput(), token);
    const quoteId = q.data?.createQuote.id as string;
    const key = 'countries-wait-1';
    // Another instance's attempt holds the key (as while its call is on its way).
    const scope = idempotencyScope('countries-app', key);
    const fingerprint = inputFingerprint({ quoteId, idempotencyKey: key, recipientMsisdn: '+237670000001' });
    const idem = stack.gateways[0]?.state.stores.idempotency;
    await expect(idem?.begin({ scope, fingerprint, lockOwner: 'other-instance:1', lockTtlMs: 10_000, recordTtlSeconds: 60 })).resolves.toMatchObject({ kind: 'acquired' });
    const before = executes();
    const waiting = execute(1, quoteId, key);
    await new Promise((r) => setTimeout(r, 300));
    // That attempt sent nothing and gives the key back: the waiter's claim is a fresh one.
    await idem?.release({ scope, lockOwner: 'other-instance:1' });
    const refused = await waiting;
    expect(refused.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(executes()).toBe(before);
    await expect(idem?.get(scope)).resolves.toBeUndefined();
  });
});
