import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTE, QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ sandbox: { startingBalance: '20000' } });
  token = await stack.token('errors-app');
});
afterAll(() => stack.close());

async function quote(msisdn = '+237670000001', amount = '5000') {
  const res = await gql<{ createQuote: { id: string; __typename: string; code?: string } }>(stack.gateway.url, QUOTE, quoteInput(msisdn, amount), token);
  return res.data?.createQuote;
}
async function execute(quoteId: string, idempotencyKey: string, msisdn = '+237670000001') {
  const res = await gql<{ executeDisbursement: { __typename: string; id?: string; code?: string } }>(
    stack.gateway.url,
    EXECUTE,
    { input: { quoteId, idempotencyKey, recipient: { msisdn } } },
    token,
  );
  return res;
}

describe('business outcomes are union members', () => {
  it('InvalidRecipientError when ZoPay refuses the number', async () => {
    const q = await quote('+237650000009');
    expect(q).toMatchObject({ __typename: 'InvalidRecipientError', code: 'INVALID_RECIPIENT' });
  });

  it('QuoteAlreadyUsedError when a second key executes the same quote', async () => {
    const q = await quote();
    expect((await execute(q?.id as string, 'used-1')).data?.executeDisbursement.__typename).toBe('Payout');
    const second = await execute(q?.id as string, 'used-2');
    expect(second.data?.executeDisbursement).toMatchObject({ __typename: 'QuoteAlreadyUsedError', code: 'QUOTE_ALREADY_USED' });
  });

  it('IdempotencyKeyReusedError for the same key with another quote, with nothing sent upstream', async () => {
    const q1 = await quote();
    const q2 = await quote();
    await execute(q1?.id as string, 'reuse-1');
    const before = stack.sandbox.requests.length;
    const again = await execute(q2?.id as string, 'reuse-1');
    expect(again.data?.executeDisbursement).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('InsufficientBalanceError when the wallet cannot cover amount plus fees', async () => {
    const q = await quote('+237670000002', '900000');
    const res = await execute(q?.id as string, 'broke-1', '+237670000002');
    expect(res.data?.executeDisbursement).toMatchObject({ __typename: 'InsufficientBalanceError', code: 'INSUFFICIENT_BALANCE' });
  });

  it('QuoteNotFoundError for an unknown quote, without an upstream call', async () => {
    const before = stack.sandbox.requests.length;
    const res = await execute('no-such-quote', 'nf-1');
    expect(res.data?.executeDisbursement).toMatchObject({ __typename: 'QuoteNotFoundError' });
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('QuoteNotFoundError for another caller\'s quote', async () => {
    const q = await quote();
    const other = await stack.token('someone-else');
    const res = await gql<{ executeDisbursement: { __typename: string } }>(
      stack.gateway.url,
      EXECUTE,
      { input: { quoteId: q?.id, idempotencyKey: 'steal-1', recipient: { msisdn: '+237670000001' } } },
      other,
    );
    expect(res.data?.executeDisbursement.__typename).toBe('QuoteNotFoundError');
  });

  it('InvalidRecipientError when the recipient differs from the quote', async () => {
    const q = await quote('+237670000001');
    const res = await execute(q?.id as string, 'mismatch-1', '+237670000002');
    expect(res.data?.executeDisbursement.__typename).toBe('InvalidRecipientError');
  });
});

describe('bad input is BAD_USER_INPUT and sends nothing upstream', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['letters in the msisdn', quoteInput('+23767000000a')],
    ['spaces in the msisdn', quoteInput('+237 670000001')],
    ['a double plus', quoteInput('++237670000001')],
    ['Arabic-Indic digits', quoteInput('+٢٣٧٦٧٠٠٠٠٠٠١')],
    ['a zero-width character', quoteInput('+237670000\u200b001')],
    ['a too short number', quoteInput('+2376700')],
    ['a too long number', quoteInput('+2376700000011234')],
    ['a zero amount', quoteInput('+237670000001', '0')],
    ['a negative amount', quoteInput('+237670000001', '-5')],
    ['a float-looking exponent', quoteInput('+237670000001', '1e21')],
    ['NaN', quoteInput('+237670000001', 'NaN')],
    ['fractional XAF', quoteInput('+237670000001', '10.5')],
    ['an amount over the limit', quoteInput('+237670000001', '100000001')],
    ['a lower-case currency', { input: { gateway: 'MTN_MOMO', amount: '10', currency: 'xaf', recipient: { msisdn: '+237670000001' } } }],
    ['a numeric amount', { input: { gateway: 'MTN_MOMO', amount: 5000, currency: 'XAF', recipient: { msisdn: '+237670000001' } } }],
  ];
  it.each(cases)('rejects %s', async (_name, variables) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, QUOTE, variables, token);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it.each([
    ['an empty payout id', '', 'must not be empty'],
    ['a payout id with a slash', 'po/1', 'must be letters, digits, "-" or "_"'],
  ])('rejects %s in payout(id:) with one issue saying why', async (_name, id, message) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, 'query P($id: ID!) { payout(id: $id) { id } }', { id }, token);
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', issues: [{ path: 'id', message }] }]);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  // One issue each, saying what is wrong (an empty key used to get the ASCII message as well).
  const keys: [string, string, string][] = [
    ['an empty key', '', 'must not be empty'],
    ['a 10 KB key', 'k'.repeat(10_000), 'must be at most 255 characters'],
    ['a control character', 'key\u0007', 'must contain printable ASCII characters only'],
    ['non-ASCII', 'clé-1', 'must contain printable ASCII characters only'],
  ];
  it.each([
    ['an empty quote id', '', 'must not be empty'],
    ['a quote id with a space', 'q 1', 'must be printable ASCII without spaces'],
    ['a 200-character quote id', 'q'.repeat(200), 'must be at most 128 characters'],
  ])('rejects %s with one issue saying why', async (_name, quoteId, message) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, EXECUTE, { input: { quoteId, idempotencyKey: 'k-1', recipient: { msisdn: '+237670000001' } } }, token);
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', issues: [{ path: 'input.quoteId', message }] }]);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it.each(keys)('rejects an idempotency key with %s', async (_name, idempotencyKey, message) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, EXECUTE, { input: { quoteId: 'q', idempotencyKey, recipient: { msisdn: '+237670000001' } } }, token);
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', issues: [{ path: 'input.idempotencyKey', message }] }]);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('normalises a number given without "+" to E.164', async () => {
    const res = await gql<{ createQuote: { recipient: { msisdn: string } } }>(stack.gateway.url, QUOTE, quoteInput('237670000001'), token);
    expect(res.data?.createQuote.recipient.msisdn).toBe('+237670000001');
  });
});

describe('infrastructure failures', () => {
  it('masks an upstream 500 body as UPSTREAM_UNAVAILABLE without any upstream detail', async () => {
    stack.sandbox.faults.inject({ route: 'quote', kind: 'http500', times: 10 });
    try {
      const res = await gql(stack.gateway.url, QUOTE, quoteInput(), token);
      expect(res.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
      const text = JSON.stringify(res);
      expect(text).not.toMatch(/x-zo|127\.0\.0\.1|stack|237670000001|sandbox/i);
    } finally {
      stack.sandbox.faults.clear();
    }
  });

  it('turns an upstream 429 beyond the deadline into RATE_LIMITED with retryAfter', async () => {
    stack.sandbox.faults.inject({ route: 'quote', kind: 'rate429', times: 1, retryAfterSeconds: 60 });
    const res = await gql(stack.gateway.url, QUOTE, quoteInput(), token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
  });
});

describe('input graphql-js cannot coerce: BAD_USER_INPUT with issues, nothing sent', () => {
  type Issue = { path: string; message: string };
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a phone number with letters', { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn: '+2376700abc01' } }, 'input.recipient.msisdn', /Msisdn|digit/i],
    ['a negative amount', { gateway: 'MTN_MOMO', amount: '-5000', currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal/],
    ['an amount in exponent form', { gateway: 'MTN_MOMO', amount: '1e21', currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal/],
    ['an unknown gateway', { gateway: 'PAYPAL', amount: '5000', currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.gateway', /Gateway|enum/i],
    ['an unknown input field', { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn: '+237670000001' }, tip: '10' }, 'input', /tip/],
    ['an amount sent as a JSON number', { gateway: 'MTN_MOMO', amount: 5000, currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal must be a string such as "5000" \(not a number: amounts are never floats\)$/],
    ['an amount with more digits than any amount', { gateway: 'MTN_MOMO', amount: '99999999999999999999999', currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal has too many digits: at most 18 before the point and 6 after it$/],
    ['an amount with more decimals than any amount', { gateway: 'MTN_MOMO', amount: '1.0000001', currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal has too many digits: at most 18 before the point and 6 after it$/],
    // Only a number is told it is not one.
    ['an amount sent as a boolean', { gateway: 'MTN_MOMO', amount: true, currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal must be a string such as "5000"$/],
    ['an amount sent as a list', { gateway: 'MTN_MOMO', amount: ['5000'], currency: 'XAF', recipient: { msisdn: '+237670000001' } }, 'input.amount', /Decimal must be a string such as "5000"$/],
    // The message's own example used to be a number, which the error masking then starred out.
    ['a phone number sent as a JSON number', { gateway: 'MTN_MOMO', amount: '5000', currency: 'XAF', recipient: { msisdn: 237670000001 } }, 'input.recipient.msisdn', /Msisdn must be a string in E\.164 form: "\+", the country code and the number, digits only \("\+237" and 9 digits in Cameroon\)$/],
  ];
  it.each(cases)('%s', async (_name, input, path, message) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, QUOTE, { input }, token);
    expect(res.data ?? null).toBeNull();
    const error = res.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const issues = error?.extensions?.['issues'] as Issue[];
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(message);
    expect(JSON.stringify(res)).not.toContain('670000001');
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('a phone number glued to a word in text the client sent back (a field name) is masked in the error too', async () => {
    const res = await gql(stack.gateway.url, '{ payTo_237670000001 }', {}, token);
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toContain('payTo_2376*****001');
    expect(JSON.stringify(res)).not.toContain('670000001');
  });

  it('a value that itself reads like the rest of the message is neither echoed nor taken for the path', async () => {
    const input = { gateway: 'MTN_MOMO', amount: '1 at "input.fake"; sneaky', currency: 'XAF', recipient: { msisdn: '+237670000001' } };
    const res = await gql(stack.gateway.url, QUOTE, { input }, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', issues: [{ path: 'input.amount', message: expect.stringMatching(/Decimal must be/) }] });
    expect(JSON.stringify(res)).not.toMatch(/fake|sneaky/);
  });

  it('an invalid literal argument: BAD_USER_INPUT without the literal echoed', async () => {
    const res = await gql(stack.gateway.url, 'mutation { createQuote(input: { gateway: MTN_MOMO, amount: "-5000", currency: "XAF", recipient: { msisdn: "+237670000001" } }) { __typename } }', {}, token);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((res.errors?.[0]?.extensions?.['issues'] as Issue[])[0]).toMatchObject({ path: 'input.amount', message: expect.stringMatching(/Decimal/) });
    expect(JSON.stringify(res)).not.toContain('-5000');
  });

  it('an invalid literal deeper in the input names its place, as for a variable', async () => {
    const res = await gql(stack.gateway.url, 'mutation {\n  createQuote(input: { gateway: MTN_MOMO, amount: "5000", currency: "XAF", recipient: { msisdn: "0670" } }) { __typename }\n}', {}, token);
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', issues: [{ path: 'input.recipient.msisdn', message: expect.stringMatching(/Msisdn/) }] }]);
  });

  it('a document error about variables (one never used) stays GRAPHQL_VALIDATION_FAILED', async () => {
    const res = await gql(stack.gateway.url, 'query Q($unused: Int) { __typename }', {}, token);
    expect(res.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('a missing required variable', async () => {
    const res = await gql(stack.gateway.url, QUOTE, {}, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', issues: [{ path: 'input', message: 'A value is required.' }] });
  });
});

describe('RECIPIENT_COUNTRY_CODES', () => {
  let wider: TestStack;
  beforeAll(async () => {
    wider = await startStack({ env: { RECIPIENT_COUNTRY_CODES: '237,225' } });
  });
  afterAll(() => wider.close());

  it('a configured country goes to ZoPay (which decides), one left out is BAD_USER_INPUT with nothing sent', async () => {
    const t = await wider.token('countries-app');
    const quotes = () => wider.sandbox.requests.filter((r) => r.route === 'quote').length;
    const before = quotes();
    const ivoryCoast = await gql<{ createQuote: { __typename: string } }>(wider.gateway.url, QUOTE, quoteInput('+2250701234567'), t);
    expect(ivoryCoast.data?.createQuote.__typename).toBe('InvalidRecipientError'); // the sandbox pays only its test numbers
    expect(quotes()).toBe(before + 1);
    const france = await gql(wider.gateway.url, QUOTE, quoteInput('+33612345678'), t);
    expect(france.errors?.map((e) => e.extensions)).toEqual([
      { code: 'BAD_USER_INPUT', issues: [{ path: 'input.recipient.msisdn', message: 'Msisdn must be a number of +237 or +225: this gateway pays out to no other country.' }] },
    ]);
    expect(quotes()).toBe(before + 1);
  });
});

describe('DateTime takes only instants that exist', () => {
  const LIST = 'query L($after: DateTime) { payouts(first: 1, filter: { createdAfter: $after }) { totalCount } }';
  it.each([
    ['February 31st (Date.parse would roll it over to March 3rd)', '2026-02-31T00:00:00Z', /not a real instant/],
    ['February 29th of a common year', '2027-02-29T00:00:00Z', /not a real instant/],
    ['February 30th with a +14:00 offset', '2026-02-30T00:00:00+14:00', /not a real instant/],
    ['hour 24', '2026-03-01T24:00:00Z', /not a real instant/],
    ['second 60', '2026-03-01T23:59:60Z', /not a real instant/],
    ['an offset of 25 hours', '2026-03-01T00:00:00+25:00', /not a real instant/],
    ['month 13', '2026-13-01T00:00:00Z', /not a real instant/],
    ['a date without a time', '2026-03-01', /must be an ISO-8601 string/],
  ])('%s is BAD_USER_INPUT with nothing sent', async (_name, after, message) => {
    const before = stack.sandbox.requests.length;
    const res = await gql(stack.gateway.url, LIST, { after }, token);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', issues: [{ path: 'after', message: expect.stringMatching(message) }] }]);
    expect(stack.sandbox.requests.length).toBe(before);
  });

  it('a leap day and the last second of a day, with an offset, are taken', async () => {
    for (const after of ['2028-02-29T00:00:00Z', '2026-12-31T23:59:59.999-01:00']) {
      const res = await gql<{ payouts: { totalCount: number } }>(stack.gateway.url, LIST, { after }, token);
      expect(res.errors, after).toBeUndefined();
      expect(res.data?.payouts.totalCount).toBe(0);
    }
  });
});
