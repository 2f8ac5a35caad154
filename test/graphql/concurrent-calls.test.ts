/**
 * Many ZoPay calls in flight at once on one instance. Each listens to the instance's shutdown signal
 * while it runs (so that shutdown can end it): Node must not take that for a listener leak and print a
 * MaxListenersExceededWarning (seen in a chaos run), and every call still gets its answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUOTE, gql, quoteInput, startStack, type TestStack } from '../helpers/gateway.js';

let stack: TestStack;
let token: string;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeAll(async () => {
  stack = await startStack();
  token = await stack.token('concurrent-app');
  process.on('warning', onWarning);
});
afterAll(async () => {
  process.off('warning', onWarning);
  await stack.close();
});

describe('30 ZoPay calls in flight at once', () => {
  it('all answer, and no listener-leak warning is printed', async () => {
    stack.sandbox.faults.inject({ route: 'quote', kind: 'slow', delayMs: 300, times: 30 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => gql<{ createQuote: { __typename: string } }>(stack.gateway.url, QUOTE, quoteInput(), token)));
    expect(answers.map((a) => a.data?.createQuote.__typename)).toEqual(Array.from({ length: 30 }, () => 'Quote'));
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.name)).toEqual([]);
  });
});
