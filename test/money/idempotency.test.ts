import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServerHandle } from '../helpers/redis.js';
import { EXECUTE, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';
import { idempotencyScope, inputFingerprint } from '../../src/services/execute.js';

let redis: RedisServerHandle;
let stack: TestStack;
let alice: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ instances: 2, env: { REDIS_URL: redis.url, MUTATION_RATE_LIMIT_PER_MINUTE: '100000' }, sandbox: { startingBalance: '1000000' } });
  alice = await stack.token('alice');
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

type ExecuteResult = { executeDisbursement: { __typename: string; id?: string; status?: string; code?: string } };
const executes = () => stack.sandbox.requests.filter((r) => r.route === 'execute');

async function quote(token: string, msisdn = '+237670000005', amount = '5000'): Promise<string> {
  const q = await gql<{ createQuote: { id: string } }>(stack.gateway.url, QUOTE, quoteInput(msisdn, amount), token);
  return q.data?.createQuote.id as string;
}
function execute(instance: number, token: string, quoteId: string, idempotencyKey: string, msisdn = '+237670000005') {
  return gql<ExecuteResult>(stack.gateways[instance]?.url as string, EXECUTE, { input: { quoteId, idempotencyKey, recipient: { msisdn } } }, token);
}

describe('exactly one payout per (caller, idempotency key)', () => {
  it('coalesces 100 concurrent executes of one key over two instances into one upstream execute', async () => {
    const quoteId = await quote(alice);
    const before = executes().length;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => execute(i % 2, alice, quoteId, 'storm-1')));
    expect(executes().length - before).toBe(1);
    const ids = new Set(results.map((r) => r.data?.executeDisbursement.id));
    expect(results.every((r) => r.data?.executeDisbursement.__typename === 'Payout')).toBe(true);
    expect(ids.size).toBe(1);
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
    // T4: every answer but the one that made the payout says it is the key's answer replayed.
    expect(results.filter((r) => r.extensions?.['idempotentReplay'] !== true)).toHaveLength(1);
  });

  it('marks a replayed answer with extensions.idempotentReplay (T4), a payout or a business error alike, and only the replays', async () => {
    const quoteId = await quote(alice);
    const first = await execute(0, alice, quoteId, 'replay-flag-1');
    expect(first.data?.executeDisbursement.__typename).toBe('Payout');
    expect(first.extensions?.['idempotentReplay']).toBeUndefined();
    const again = await execute(1, alice, quoteId, 'replay-flag-1');
    expect(again.data?.executeDisbursement.id).toBe(first.data?.executeDisbursement.id);
    expect(again.extensions).toMatchObject({ idempotentReplay: true });

    const broke = await quote(alice, '+237670000002', '5000000'); // more than the wallet holds
    const refused = await execute(0, alice, broke, 'replay-flag-2', '+237670000002');
    expect(refused.data?.executeDisbursement.__typename).toBe('InsufficientBalanceError');
    expect(refused.extensions?.['idempotentReplay']).toBeUndefined();
    const refusedAgain = await execute(1, alice, broke, 'replay-flag-2', '+237670000002');
    expect(refusedAgain.data?.executeDisbursement.__typename).toBe('InsufficientBalanceError');
    expect(refusedAgain.extensions).toMatchObject({ idempotentReplay: true });
  });

  it('replays a completed key without calling ZoPay, from either instance', async () => {
    const quoteId = await quote(alice);
    const first = await execute(0, alice, quoteId, 'replay-1');
    const before = executes().length;
    const again = await execute(1, alice, quoteId, 'replay-1');
    expect(again.data).toEqual(first.data);
    expect(executes().length).toBe(before);
  });

  it('keeps two callers using the same key apart', async () => {
    const bob = await stack.token('bob');
    const qa = await quote(alice);
    const qb = await quote(bob);
    const a = await execute(0, alice, qa, 'shared-key');
    const b = await execute(1, bob, qb, 'shared-key');
    expect(a.data?.executeDisbursement.__typename).toBe('Payout');
    expect(b.data?.executeDisbursement.__typename).toBe('Payout');
    expect(a.data?.executeDisbursement.id).not.toBe(b.data?.executeDisbursement.id);
    const keys = stack.sandbox.ledger.payouts().filter((p) => p.quoteId === qa || p.quoteId === qb).map((p) => p.idempotencyKey);
    expect(new Set(keys).size).toBe(2);
  });

  it('replays a stored business error without calling ZoPay again', async () => {
    const quoteId = await quote(alice, '+237670000002', '2000000');
    const first = await execute(0, alice, quoteId, 'broke-1', '+237670000002');
    expect(first.data?.executeDisbursement.__typename).toBe('InsufficientBalanceError');
    const before = executes().length;
    const again = await execute(1, alice, quoteId, 'broke-1', '+237670000002');
    expect(again.data).toEqual(first.data);
    expect(executes().length).toBe(before);
  });

  it("does not answer ZoPay's refusal as final until the key records it: a write that failed leaves the outcome unknown, never a business error a later retry could contradict", async () => {
    // A refusal recorded as usual first: Redis then knows the script that records one (a hung EVALSHA
    // of a script it does not know would fail on resume, and the retry below would find the key locked).
    const warm = await execute(0, alice, await quote(alice, '+237670000002', '2000000'), 'unrecorded-0', '+237670000002');
    expect(warm.data?.executeDisbursement.__typename).toBe('InsufficientBalanceError');
    const quoteId = await quote(alice, '+237670000002', '2000000'); // more than the wallet holds
    // ZoPay takes a moment to refuse; meanwhile Redis hangs, so the refusal cannot be recorded.
    stack.sandbox.faults.inject({ route: 'execute', kind: 'slow', delayMs: 800, times: 1 });
    const before = executes().length;
    const pending = execute(0, alice, quoteId, 'unrecorded-1', '+237670000002');
    await new Promise((r) => setTimeout(r, 300));
    redis.pause();
    let first: Awaited<typeof pending>;
    try {
      first = await pending;
    } finally {
      redis.resume();
    }
    expect(executes().length).toBe(before + 1);
    // Told "insufficient balance", a client tops up and pays with a new key; were this key retried
    // afterwards (its record still "locked"), it would resume and pay too.
    expect(first.data?.executeDisbursement).toBeUndefined();
    expect(first.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true });
    // Redis ran the write that was on its socket once it resumed: the refusal is now the key's recorded
    // outcome, and the retry the client was told to make gets it, from either instance, sending nothing.
    for (const instance of [1, 0]) {
      const retry = await execute(instance, alice, quoteId, 'unrecorded-1', '+237670000002');
      expect(retry.data?.executeDisbursement.__typename).toBe('InsufficientBalanceError');
      expect(retry.extensions).toMatchObject({ idempotentReplay: true });
    }
    expect(executes().length).toBe(before + 1);
  });

  it("sends nothing to ZoPay until a 429's retry_after has passed, and releases the key (nothing was sent), so the retry then executes", async () => {
    const quoteId = await quote(alice);
    stack.sandbox.faults.inject({ route: 'execute', kind: 'rate429', times: 1, retryAfterSeconds: 6 });
    const before = executes().length;
    const limited = await execute(0, alice, quoteId, 'released-1');
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 6 });
    // At once, on the instance ZoPay told: refused without a request (6 s do not fit the 5 s deadline).
    const early = await execute(0, alice, quoteId, 'released-1');
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(executes().length - before).toBe(1);
    // Once the rest of the wait and a second for ZoPay fit in the deadline, the same key waits it out and executes.
    await new Promise((r) => setTimeout(r, 2_500));
    const retried = await execute(0, alice, quoteId, 'released-1');
    expect(retried.data?.executeDisbursement.__typename).toBe('Payout');
    expect(executes().length - before).toBe(2);
  });

  it('retries upstream 500s with the same ZoPay key and fresh nonces, and succeeds', async () => {
    const quoteId = await quote(alice);
    stack.sandbox.faults.inject({ route: 'execute', kind: 'http500', times: 2 });
    const before = executes().length;
    const res = await execute(0, alice, quoteId, 'flaky-1');
    expect(res.data?.executeDisbursement.__typename).toBe('Payout');
    const attempts = executes().slice(before);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.headers['x-zo-nonce'])).size).toBe(3);
    expect(new Set(attempts.map((a) => a.headers['x-zo-signature'])).size).toBe(3);
  });
});

describe('upstream reads', () => {
  const DETAILS = 'query P($id: ID!) { payout(id: $id) { id status createdAt totalAmount } }';
  const gets = () => stack.sandbox.requests.filter((r) => r.route === 'get').length;
  /** A fresh PROCESSING payout whose GETs ZoPay answers slowly (the read stays in flight meanwhile). */
  async function slowlyReadPayout(key: string, times: number, delayMs: number): Promise<string> {
    const id = (await execute(0, alice, await quote(alice), key)).data?.executeDisbursement.id as string;
    stack.sandbox.faults.inject({ route: 'get', kind: 'slow', times, delayMs });
    return id;
  }

  it("share one GET among concurrent requests on an instance that need the same payout's details (each GET spends the merchant's ZoPay budget)", async () => {
    const id = await slowlyReadPayout('shared-read-1', 1_000, 300);
    try {
      const before = gets();
      const results = await Promise.all(Array.from({ length: 20 }, () => gql<{ payout: { createdAt: string | null } }>(stack.gateways[0]?.url as string, DETAILS, { id }, alice)));
      expect(results.map((r) => typeof r.data?.payout.createdAt)).toEqual(Array(20).fill('string'));
      expect(gets() - before).toBe(1);
    } finally {
      stack.sandbox.faults.clear();
    }
  });

  it('make a fresh GET once a new status arrived while an older read was in flight (it may answer from before the change)', async () => {
    const id = await slowlyReadPayout('shared-read-2', 1, 500);
    try {
      const before = gets();
      const early = gql(stack.gateways[0]?.url as string, DETAILS, { id }, alice);
      await new Promise((r) => setTimeout(r, 100));
      // The gateway learns of the final (as from a webhook) while the first read is on its way.
      const applied = await stack.gateway.state.stores.payouts.apply({ id, status: 'SUCCESS', rawStatus: 'SUCCESS', source: 'webhook' });
      expect(applied.outcome).toBe('advanced');
      const late = await gql<{ payout: { status: string } }>(stack.gateways[0]?.url as string, DETAILS, { id }, alice);
      expect(late.data?.payout.status).toBe('SUCCESS');
      await early;
      expect(gets() - before).toBe(2);
    } finally {
      stack.sandbox.faults.clear();
    }
  });
});

describe('unknown outcomes are never failures', () => {
  it('answers UPSTREAM_UNAVAILABLE (retry is safe) when ZoPay committed but never answered, and the retry returns that payout', async () => {
    const quoteId = await quote(alice);
    stack.sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 20 });
    const lost = await execute(0, alice, quoteId, 'hang-1');
    stack.sandbox.faults.clear();
    expect(lost.data ?? null).toBeNull();
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retrySafe: true, outcomeUnknown: true });
    expect(JSON.stringify(lost)).not.toMatch(/FAILED/);
    const atZoPay = stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
    expect(atZoPay).toHaveLength(1);

    const retried = await execute(1, alice, quoteId, 'hang-1');
    expect(retried.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
  }, 30_000);

  it('resolves an unknown outcome through ZoPay even after the quote has expired', async () => {
    const quoteId = await quote(alice);
    stack.sandbox.faults.inject({ route: 'execute', kind: 'commitThenHang', times: 20 });
    const lost = await execute(0, alice, quoteId, 'hang-expired-1');
    stack.sandbox.faults.clear();
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true });
    // Time passes: our record of the quote says it has expired. The payout exists at ZoPay all the same.
    await stack.gateway.state.stores.quotes.put(
      { quoteId, owner: 'alice', recipientMsisdn: '+237670000005', expiresAt: new Date(Date.now() - 1000).toISOString() },
      3600,
    );
    const retried = await execute(1, alice, quoteId, 'hang-expired-1');
    const atZoPay = stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId);
    expect(atZoPay).toHaveLength(1);
    expect(retried.data?.executeDisbursement).toMatchObject({ __typename: 'Payout', id: atZoPay[0]?.id });
  }, 30_000);

  it('treats a reset after the request was sent like a timeout: one payout, recovered by the retry', async () => {
    const quoteId = await quote(alice);
    stack.sandbox.faults.inject({ route: 'execute', kind: 'commitThenReset', times: 1 });
    const res = await execute(0, alice, quoteId, 'reset-1');
    // The client's own retry (same ZoPay key) recovers within the deadline.
    expect(res.data?.executeDisbursement.__typename).toBe('Payout');
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === quoteId)).toHaveLength(1);
  });
});

describe('a retry that takes over a claim left locked (its attempt crashed, or its Redis reply was lost)', () => {
  /** What an instance leaves behind when it dies, or loses Redis's reply, right after claiming the key. */
  async function abandonedClaim(sub: string, idempotencyKey: string, quoteId: string, msisdn: string): Promise<void> {
    const begun = await stack.gateway.state.stores.idempotency.begin({
      scope: idempotencyScope(sub, idempotencyKey),
      fingerprint: inputFingerprint({ quoteId, idempotencyKey, recipientMsisdn: msisdn }),
      lockOwner: 'a-dead-instance:1',
      lockTtlMs: 100,
      recordTtlSeconds: 3600,
    });
    expect(begun.kind).toBe('acquired');
    await new Promise((r) => setTimeout(r, 150));
  }

  it("still refuses another caller's quote, sending nothing: the retry cannot pay out someone else's quote", async () => {
    const bob = await stack.token('bob');
    const alicesQuote = await quote(alice);
    await abandonedClaim('bob', 'bob-takes-1', alicesQuote, '+237670000005');
    const before = executes().length;
    const bobs = await execute(0, bob, alicesQuote, 'bob-takes-1');
    expect(bobs.data?.executeDisbursement.__typename).toBe('QuoteNotFoundError');
    expect(executes().length).toBe(before);
    // Alice's quote is untouched: she pays it out.
    const hers = await execute(1, alice, alicesQuote, 'alice-own-1');
    expect(hers.data?.executeDisbursement.__typename).toBe('Payout');
    expect(stack.sandbox.ledger.payouts().filter((p) => p.quoteId === alicesQuote)).toHaveLength(1);
  });

  it('still refuses a recipient other than the quote\'s, sending nothing', async () => {
    const quoteId = await quote(alice, '+237670000005');
    await abandonedClaim('alice', 'wrong-recipient-1', quoteId, '+237670000001');
    const before = executes().length;
    const res = await execute(0, alice, quoteId, 'wrong-recipient-1', '+237670000001');
    expect(res.data?.executeDisbursement.__typename).toBe('InvalidRecipientError');
    expect(executes().length).toBe(before);
  });

  it('asks ZoPay when the quote has expired since: the earlier attempt may have paid', async () => {
    const quoteId = await quote(alice);
    await abandonedClaim('alice', 'expired-since-1', quoteId, '+237670000005');
    await stack.gateway.state.stores.quotes.put(
      { quoteId, owner: 'alice', recipientMsisdn: '+237670000005', expiresAt: new Date(Date.now() - 1000).toISOString() },
      3600,
    );
    const before = executes().length;
    const res = await execute(0, alice, quoteId, 'expired-since-1');
    // The sandbox's quote is still valid, so ZoPay pays (or would replay the earlier attempt's payout).
    expect(executes().length).toBe(before + 1);
    expect(res.data?.executeDisbursement.__typename).toBe('Payout');
  });
});
