import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/zopay/circuit-breaker.js';
import type { AttemptInfo, ZoPayClientOptions } from '../../src/zopay/client-options.js';
import { ZoPayClient } from '../../src/zopay/client.js';
import {
  ZoPayAuthenticationError,
  ZoPayBadResponseError,
  ZoPayCircuitOpenError,
  ZoPayConflictError,
  ZoPayConnectionError,
  ZoPayError,
  ZoPayForbiddenError,
  ZoPayInsufficientBalanceError,
  ZoPayInvalidRequestError,
  ZoPayNotFoundError,
  ZoPayRateLimitError,
  ZoPayServerError,
  ZoPayTimeoutError,
} from '../../src/zopay/errors.js';
import { signRequest } from '../../src/zopay/sign.js';
import type { TransportRequest } from '../../src/zopay/transport.js';
import { fakeTime, reply, scriptedTransport, type Step } from './fake-transport.js';

const CREDENTIALS = { apiKey: 'key_1', apiSecret: 'secret_1', origin: 'https://gateway.example' };
const EXECUTE = { quoteId: 'q-1', idempotencyKey: 'idem-1', recipientMsisdn: '+237670000001' };
const QUOTE = { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipientMsisdn: '+237670000001' } as const;
const EXECUTED = reply(200, { payout_id: 'p-1', status: 'PROCESSING', gateway_reference: 'REF', correlation_id: 'corr-1' });
const QUOTED = reply(201, { quote_id: 'q-1', gateway_fee: '50.00', platform_fee: '25.00', total_amount: '5000.00', net_to_merchant: '-5075.00' });
const m = { message: 'scripted' };
const sent = (requestSent: boolean) => new ZoPayConnectionError({ ...m, requestSent });
const timedOut = (requestSent: boolean) => new ZoPayTimeoutError({ ...m, requestSent });

function setup(steps: Step[], over: Partial<ZoPayClientOptions> = {}) {
  const time = fakeTime();
  // Every request takes 10 ms of (fake) time.
  const transport = scriptedTransport(steps, { onRequest: () => (time.clock.t += 10) });
  let n = 0;
  const attempts: AttemptInfo[] = [];
  const client = new ZoPayClient({
    transport,
    credentials: CREDENTIALS,
    clock: time.clock,
    sleep: time.sleep,
    nonce: () => `nonce-${++n}`,
    random: () => 0.5,
    onAttempt: (info) => attempts.push(info),
    ...over,
  });
  return { client, transport, attempts, ...time };
}

function expectValidSignature(req: TransportRequest) {
  const h = req.headers;
  const expected = signRequest(
    { method: req.method, path: req.path, query: req.query, body: req.body, timestamp: h['x-zo-timestamp'] ?? '', nonce: h['x-zo-nonce'] ?? '', origin: h['x-zo-origin'] ?? '' },
    CREDENTIALS.apiSecret,
  );
  expect(h['x-zo-signature']).toBe(expected);
}

async function rejection(p: Promise<unknown>): Promise<ZoPayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ZoPayError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('ZoPayClient: requests on the wire', () => {
  it('sends a quote with the documented key order, the six headers and content-type', async () => {
    const { client, transport, clock } = setup([QUOTED]);
    const quote = await client.createQuote(QUOTE);
    const [req] = transport.requests;
    if (!req) throw new Error('no request');
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/v1/disbursements/quote');
    expect(req.body).toBe(
      '{"gateway":"MTN_MOMO","transaction_type":"DISBURSEMENT","amount":"5000","currency":"XAF","recipient":{"msisdn":"+237670000001"}}',
    );
    expect(Object.keys(req.headers).sort()).toEqual(
      ['content-type', 'x-zo-key', 'x-zo-nonce', 'x-zo-origin', 'x-zo-signature', 'x-zo-timestamp', 'x-zo-version'].sort(),
    );
    expect(req.headers).toMatchObject({
      'content-type': 'application/json',
      'x-zo-key': 'key_1',
      'x-zo-origin': 'https://gateway.example',
      'x-zo-version': '1.0',
      'x-zo-timestamp': String(Math.floor((clock.t - 10) / 1000)),
    });
    expectValidSignature(req);
    expect(quote).toMatchObject({ id: 'q-1', merchantDebit: '5075.00', recipientMsisdn: '+237670000001' });
  });

  it('uses a configured quote path', async () => {
    const { client, transport } = setup([QUOTED], { quotePath: '/api/v1/wallets/quote' });
    await client.createQuote(QUOTE);
    expect(transport.requests[0]?.path).toBe('/api/v1/wallets/quote');
  });

  it('sends execute with quote_id, idempotency_key, recipient in that order and maps the payout', async () => {
    const { client, transport, attempts } = setup([EXECUTED]);
    const payout = await client.executeDisbursement({ ...EXECUTE, recipientMsisdn: '237670000001' });
    expect(transport.requests[0]?.body).toBe('{"quote_id":"q-1","idempotency_key":"idem-1","recipient":{"msisdn":"+237670000001"}}');
    expect(payout).toMatchObject({ id: 'p-1', status: 'PROCESSING', source: 'execute', correlationId: 'corr-1' });
    expect(attempts).toEqual([{ operation: 'executeDisbursement', attempt: 1, status: 200, durationMs: 10, correlationId: 'corr-1' }]);
  });

  it('sends GETs without a body or content-type, with the id path-encoded', async () => {
    const { client, transport } = setup([reply(200, { payout: { id: 'a/b', status: 'SUCCESS' } })]);
    await client.getPayout('a/b');
    const req = transport.requests[0];
    expect(req?.path).toBe('/api/v1/disbursements/a%2Fb');
    expect(req?.body).toBeUndefined();
    expect(req?.headers['content-type']).toBeUndefined();
    if (req) expectValidSignature(req);
  });

  it('lists with only the defined filters and never a limit above 100', async () => {
    const page = reply(200, { payouts: [], total: 0, limit: 100, offset: 0, hasMore: false });
    const { client, transport } = setup([page, page]);
    await client.listPayouts({ limit: 500, offset: 0, status: 'SUCCESS', batchId: 'b-1', startDate: '2024-01-01T00:00:00Z' });
    await client.listPayouts({ limit: 0, offset: -5 });
    expect(transport.requests[0]?.query).toEqual({ status: 'SUCCESS', limit: '100', offset: '0', startDate: '2024-01-01T00:00:00Z', batch_id: 'b-1' });
    expect(transport.requests[1]?.query).toEqual({ limit: '1', offset: '0' });
    for (const req of transport.requests) expectValidSignature(req);
  });
});

describe('ZoPayClient: retries', () => {
  it('retries an execute after 5xx, re-signing with new nonces and the same idempotency_key', async () => {
    const { client, transport, sleeps } = setup([reply(500, {}), reply(503, {}), EXECUTED]);
    await expect(client.executeDisbursement(EXECUTE)).resolves.toMatchObject({ id: 'p-1' });
    expect(transport.requests).toHaveLength(3);
    expect(new Set(transport.requests.map((r) => r.body)).size).toBe(1);
    expect(transport.requests.map((r) => r.headers['x-zo-nonce'])).toEqual(['nonce-1', 'nonce-2', 'nonce-3']);
    expect(new Set(transport.requests.map((r) => r.headers['x-zo-signature'])).size).toBe(3);
    for (const req of transport.requests) expectValidSignature(req);
    // Full jitter with random() = 0.5: half of 100, then half of 200.
    expect(sleeps).toEqual([50, 100]);
  });

  it('retries an execute after an ambiguous timeout with the same key', async () => {
    const { client, transport } = setup([timedOut(true), sent(true), EXECUTED]);
    await expect(client.executeDisbursement(EXECUTE)).resolves.toMatchObject({ id: 'p-1' });
    expect(transport.requests).toHaveLength(3);
  });

  it('waits as told on 429 (retry_after header) and then succeeds', async () => {
    const { client, sleeps } = setup([reply(429, {}, { retry_after: '2' }), EXECUTED]);
    await expect(client.executeDisbursement(EXECUTE)).resolves.toMatchObject({ id: 'p-1' });
    expect(sleeps).toEqual([2000]);
  });

  it('retries a quote after 429: a rejected request created nothing', async () => {
    const { client, sleeps } = setup([reply(429, {}, { 'retry-after': '1' }), QUOTED]);
    await expect(client.createQuote(QUOTE)).resolves.toMatchObject({ id: 'q-1' });
    expect(sleeps).toEqual([1000]);
  });

  it('stops at once with the 429 when the wait would pass the deadline', async () => {
    const { client, transport, sleeps, clock } = setup([reply(429, {}, { retry_after: '30' })]);
    const err = await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 5_000 }));
    expect(err).toBeInstanceOf(ZoPayRateLimitError);
    expect((err as ZoPayRateLimitError).retryAfterSeconds).toBe(30);
    expect(transport.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("keeps to a 429's retry_after for every later call on the key: one that cannot wait is refused unsent, one that can waits", async () => {
    const { client, transport, sleeps, clock } = setup([reply(429, {}, { retry_after: '30' }), QUOTED]);
    expect(await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 5_000 }))).toBeInstanceOf(ZoPayRateLimitError);
    // Another call at once (a client's immediate retry, or another caller's quote): nothing is sent.
    const refused = await rejection(client.createQuote(QUOTE, { deadline: clock.t + 5_000 }));
    expect(refused).toBeInstanceOf(ZoPayRateLimitError);
    expect(refused.mayHaveReachedUpstream).toBe(false);
    expect((refused as ZoPayRateLimitError).retryAfterSeconds).toBe(30);
    expect(transport.requests).toHaveLength(1);
    // A call whose deadline reaches past the pause waits it out, then sends.
    await expect(client.createQuote(QUOTE, { deadline: clock.t + 60_000 })).resolves.toMatchObject({ id: 'q-1' });
    expect(sleeps).toEqual([30_000]);
    expect(transport.requests).toHaveLength(2);
  });

  it('after the pause, sends only with time left for an answer (an execute timing out after sending would be of unknown outcome)', async () => {
    const { client, transport, sleeps, clock } = setup([reply(429, {}, { retry_after: '30' }), EXECUTED]);
    await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 5_000 }));
    // 30 s of pause and 0.5 s to spare: refused, unsent.
    const refused = await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 30_500 }));
    expect(refused).toBeInstanceOf(ZoPayRateLimitError);
    expect(transport.requests).toHaveLength(1);
    // 30 s of pause and 5 s to spare: waits, then sends.
    await expect(client.executeDisbursement(EXECUTE, { deadline: clock.t + 35_000 })).resolves.toMatchObject({ id: 'p-1' });
    expect(sleeps).toEqual([30_000]);
  });

  it('waits again when a 429 that came during its wait pushed the pause further', async () => {
    let answerInFlight: (r: ReturnType<typeof reply>) => void = () => undefined;
    const inFlight = new Promise<ReturnType<typeof reply>>((resolve) => (answerInFlight = resolve));
    let inFlightCall: Promise<unknown> = Promise.resolve();
    const waits: number[] = [];
    const { client, transport, clock } = setup([() => inFlight, reply(429, {}, { retry_after: '1' }), QUOTED], {
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 1) {
          // While this call waits out the first pause, the call sent before it gets its own 429: 4 s.
          answerInFlight(reply(429, {}, { retry_after: '4' }));
          await inFlightCall.catch(() => undefined);
        }
        clock.t += ms;
      },
    });
    const t0 = clock.t;
    inFlightCall = client.executeDisbursement(EXECUTE, { deadline: t0 + 3_000 });
    // Another call meets a 429 asking for 1 s, and cannot wait for it.
    expect(await rejection(client.createQuote(QUOTE, { deadline: t0 + 1_500 }))).toBeInstanceOf(ZoPayRateLimitError);
    // A third call can wait: it must not go out before the longer pause has passed.
    await expect(client.createQuote(QUOTE, { deadline: t0 + 60_000 })).resolves.toMatchObject({ id: 'q-1' });
    expect(waits).toEqual([1_000, 3_000]);
    expect(clock.t).toBeGreaterThanOrEqual(t0 + 4_000);
    expect(transport.requests).toHaveLength(3);
  });

  it('refuses, unsent, a call during whose wait for a budget slot a 429 arrived', async () => {
    let answerInFlight: (r: ReturnType<typeof reply>) => void = () => undefined;
    const inFlight = new Promise<ReturnType<typeof reply>>((resolve) => (answerInFlight = resolve));
    let inFlightCall: Promise<unknown> = Promise.resolve();
    let slots = 0;
    const { client, transport, clock } = setup([() => inFlight, QUOTED], {
      budget: {
        acquire: async () => {
          // The second call waits for its slot while the first one's 429 (4 s) comes back.
          if (++slots === 2) {
            answerInFlight(reply(429, {}, { retry_after: '4' }));
            await inFlightCall.catch(() => undefined);
          }
        },
      },
    });
    inFlightCall = client.executeDisbursement(EXECUTE, { deadline: clock.t + 3_000 });
    const refused = await rejection(client.createQuote(QUOTE, { deadline: clock.t + 60_000 }));
    expect(refused).toBeInstanceOf(ZoPayRateLimitError);
    expect(refused.mayHaveReachedUpstream).toBe(false);
    expect((refused as ZoPayRateLimitError).retryAfterSeconds).toBe(4);
    expect(transport.requests).toHaveLength(1);
  });

  it("does not resend after its own 429's wait when less than a second would be left for the answer", async () => {
    const { client, transport, sleeps, clock } = setup([reply(429, {}, { retry_after: '4' }), EXECUTED]);
    const err = await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 4_500 }));
    expect(err).toBeInstanceOf(ZoPayRateLimitError);
    expect(transport.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('falls back to backoff on a 429 without a hint', async () => {
    const { client, sleeps } = setup([reply(429, {}), EXECUTED]);
    await client.executeDisbursement(EXECUTE);
    expect(sleeps).toEqual([50]);
  });

  it.each([
    [400, ZoPayInvalidRequestError],
    [422, ZoPayInvalidRequestError],
    [401, ZoPayAuthenticationError],
    [402, ZoPayInsufficientBalanceError],
    [403, ZoPayForbiddenError],
    [404, ZoPayNotFoundError],
    [409, ZoPayConflictError],
  ])('never retries a %i', async (status, cls) => {
    const { client, transport } = setup([reply(status, { code: 'X' }), EXECUTED]);
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(cls);
    expect(err.mayHaveReachedUpstream).toBe(false);
    expect(transport.requests).toHaveLength(1);
  });

  it.each([
    ['a 500', reply(500, {}), ZoPayServerError],
    ['a headers timeout', timedOut(true), ZoPayTimeoutError],
    ['a reset after sending', sent(true), ZoPayConnectionError],
  ])('never retries a quote POST after %s (unknown outcome)', async (_name, step, cls) => {
    const { client, transport } = setup([step, QUOTED]);
    const err = await rejection(client.createQuote(QUOTE));
    expect(err).toBeInstanceOf(cls);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(transport.requests).toHaveLength(1);
  });

  it('retries a quote POST that was never sent', async () => {
    const { client, transport } = setup([sent(false), timedOut(false), QUOTED]);
    await expect(client.createQuote(QUOTE)).resolves.toMatchObject({ id: 'q-1' });
    expect(transport.requests).toHaveLength(3);
  });

  it('gives up after maxAttempts, keeping the unknown outcome', async () => {
    const { client, transport } = setup([timedOut(true), timedOut(true), timedOut(true), timedOut(true)]);
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(transport.requests).toHaveLength(4);
  });

  it('keeps the unknown outcome when a later attempt proves nothing (never sent)', async () => {
    const { client } = setup([reply(500, {}), sent(false), sent(false), sent(false)]);
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayServerError);
    expect(err.mayHaveReachedUpstream).toBe(true);
  });

  it('keeps the unknown outcome when a later attempt is answered with a 4xx', async () => {
    const { client, transport } = setup([timedOut(true), reply(409, { code: 'IDEMPOTENCY_CONFLICT' })]);
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(transport.requests).toHaveLength(2);
  });

  it('keeps the unknown outcome when the deadline stops the retries', async () => {
    const { client, clock } = setup([timedOut(true), EXECUTED], { policy: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const err = await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t + 1_000 }));
    expect(err.mayHaveReachedUpstream).toBe(true);
  });

  it('honours maxAttempts from the policy', async () => {
    const { client, transport } = setup([reply(500, {}), reply(500, {}), EXECUTED], { policy: { maxAttempts: 2 } });
    await expect(client.executeDisbursement(EXECUTE)).rejects.toBeInstanceOf(ZoPayServerError);
    expect(transport.requests).toHaveLength(2);
  });

  it('retries GETs after 5xx', async () => {
    const { client, transport } = setup([reply(502, 'Bad Gateway'), reply(200, { payout: { id: 'p', status: 'SUCCESS' } })]);
    await expect(client.getPayout('p')).resolves.toMatchObject({ status: 'SUCCESS' });
    expect(transport.requests).toHaveLength(2);
  });
});

describe('ZoPayClient: deadlines, aborts and the budget', () => {
  it('sends nothing when the deadline has already passed', async () => {
    const { client, transport, clock } = setup([EXECUTED]);
    const err = await rejection(client.executeDisbursement(EXECUTE, { deadline: clock.t - 1 }));
    expect(err).toBeInstanceOf(ZoPayTimeoutError);
    expect(err.mayHaveReachedUpstream).toBe(false);
    expect(transport.requests).toHaveLength(0);
  });

  it('gives each attempt at most the attempt timeout, never beyond the deadline', async () => {
    const { client, transport, clock } = setup([reply(500, {}), EXECUTED], { policy: { attemptTimeoutMs: 3_000 } });
    await client.executeDisbursement(EXECUTE, { deadline: clock.t + 2_000 });
    expect(transport.requests[0]?.timeoutMs).toBe(2_000);
    expect(transport.requests[1]?.timeoutMs).toBe(2_000 - 10 - 50);
    const other = setup([EXECUTED], { policy: { attemptTimeoutMs: 3_000 } });
    await other.client.executeDisbursement(EXECUTE);
    expect(other.transport.requests[0]?.timeoutMs).toBe(3_000);
  });

  it('defaults the deadline to operationDeadlineMs', async () => {
    const { client, transport } = setup([reply(500, {}), EXECUTED], { policy: { operationDeadlineMs: 100, attemptTimeoutMs: 1_000 } });
    await expect(client.executeDisbursement(EXECUTE)).resolves.toBeDefined();
    expect(transport.requests.map((r) => r.timeoutMs)).toEqual([100, 100 - 10 - 50]);
    const short = setup([reply(500, {}), EXECUTED], { policy: { operationDeadlineMs: 40 } });
    await expect(short.client.executeDisbursement(EXECUTE)).rejects.toBeInstanceOf(ZoPayServerError);
    expect(short.transport.requests).toHaveLength(1);
  });

  it('stops retrying once the caller aborts', async () => {
    const ac = new AbortController();
    const { client, transport } = setup([
      () => {
        ac.abort();
        throw timedOut(true);
      },
      EXECUTED,
    ]);
    await expect(client.executeDisbursement(EXECUTE, { signal: ac.signal })).rejects.toBeInstanceOf(ZoPayTimeoutError);
    expect(transport.requests).toHaveLength(1);
    expect(transport.requests[0]?.signal).toBe(ac.signal);
  });

  it('waits for the shared budget before every attempt, until the deadline less the time an answer needs', async () => {
    const calls: number[] = [];
    const { client, clock } = setup([reply(500, {}), EXECUTED], { budget: { acquire: async (d) => void calls.push(d) } });
    const deadline = clock.t + 5_000;
    await client.executeDisbursement(EXECUTE, { deadline });
    // A second (a tenth of the default 20 s operation deadline, at most 1 s).
    expect(calls).toEqual([deadline - 1_000, deadline - 1_000]);
  });

  it('ends the call with the budget error and sends nothing when the budget refuses', async () => {
    const refusal = new ZoPayRateLimitError({ message: 'local budget exhausted', retryAfterSeconds: 3 });
    const { client, transport } = setup([EXECUTED], {
      budget: {
        acquire: async () => {
          throw refusal;
        },
      },
    });
    await expect(client.executeDisbursement(EXECUTE)).rejects.toBe(refusal);
    expect(transport.requests).toHaveLength(0);
  });
});

describe('ZoPayClient: responses and the circuit breaker', () => {
  it('reports an unreadable 2xx as a bad response without retrying', async () => {
    const { client, transport } = setup([reply(200, '<html>'), EXECUTED]);
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayBadResponseError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(transport.requests).toHaveLength(1);
  });

  it("refuses a GET answered with another payout than the one asked for, as a bad response", async () => {
    const { client } = setup([reply(200, { payout: { id: 'p-1', status: 'SUCCESS' } })]);
    const err = await rejection(client.getPayout('p-2'));
    expect(err).toBeInstanceOf(ZoPayBadResponseError);
  });

  it('maps a GET 404 to ZoPayNotFoundError', async () => {
    const { client } = setup([reply(404, { error: 'Not Found', code: 'NOT_FOUND' })]);
    const err = await rejection(client.getPayout('nope'));
    expect(err).toBeInstanceOf(ZoPayNotFoundError);
    expect(err.upstreamCode).toBe('NOT_FOUND');
  });

  it('fails fast without sending anything while the breaker is open', async () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 30_000, clock: time.clock });
    breaker.record('failure');
    breaker.record('failure');
    const { client, transport, attempts } = setup([EXECUTED], { breaker });
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayCircuitOpenError);
    expect((err as ZoPayCircuitOpenError).retryAfterSeconds).toBe(30);
    expect(transport.requests).toHaveLength(0);
    expect(attempts).toEqual([{ operation: 'executeDisbursement', attempt: 1, errorCode: 'ZOPAY_CIRCUIT_OPEN', durationMs: 0 }]);
  });

  it('opens the breaker during retries but still reports the unknown outcome', async () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 30_000, clock: time.clock });
    const { client, transport } = setup([reply(500, {}), reply(500, {}), EXECUTED], { breaker });
    const err = await rejection(client.executeDisbursement(EXECUTE));
    expect(err).toBeInstanceOf(ZoPayServerError);
    expect(err.mayHaveReachedUpstream).toBe(true);
    expect(transport.requests).toHaveLength(2);
    expect(breaker.state).toBe('open');
  });

  it('does not count 4xx answers as upstream trouble', async () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: time.clock });
    const { client } = setup([reply(400, {}), reply(409, {}), reply(404, {})], { breaker });
    await client.executeDisbursement(EXECUTE).catch(() => undefined);
    await client.executeDisbursement(EXECUTE).catch(() => undefined);
    await client.getPayout('x').catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('reports every attempt to onAttempt without secrets or MSISDNs, and survives a throwing hook', async () => {
    const { client, attempts } = setup([reply(500, { message: `boom ${CREDENTIALS.apiSecret} +237670000001` }), EXECUTED]);
    await client.executeDisbursement(EXECUTE);
    expect(attempts.map((a) => [a.attempt, a.status, a.errorCode])).toEqual([
      [1, 500, 'ZOPAY_SERVER_ERROR'],
      [2, 200, undefined],
    ]);
    const text = JSON.stringify(attempts);
    expect(text).not.toContain(CREDENTIALS.apiSecret);
    expect(text).not.toContain('237670000001');

    const throwing = setup([EXECUTED], {
      onAttempt: () => {
        throw new Error('metrics down');
      },
    });
    await expect(throwing.client.executeDisbursement(EXECUTE)).resolves.toMatchObject({ id: 'p-1' });
  });
});
