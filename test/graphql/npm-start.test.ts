import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { run, type Running } from '../../src/main.js';
import { EXECUTE, PAYOUT, QUOTE, gql, quoteInput } from '../helpers/gateway.js';

let running: Running;

beforeAll(async () => {
  // Exactly npm start's path with no environment, but on free ports and quiet.
  running = await run(loadConfig({ PORT: '0', SANDBOX_PORT: '0', LOG_LEVEL: 'silent', SANDBOX_TIME_SCALE: '10' }));
});
afterAll(() => running.stop());

describe('npm start with no configuration', () => {
  it('runs the embedded sandbox and prints a dev token', () => {
    expect(running.sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.gateway.devToken).toEqual(expect.any(String));
  });

  it('serves GraphiQL to browsers', async () => {
    const res = await fetch(`${running.gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ExecuteDisbursement');
  });

  it('pays someone end to end with the dev token', async () => {
    const url = running.gateway.url;
    const token = running.gateway.devToken as string;
    const q = await gql<{ createQuote: { id: string } }>(url, QUOTE, quoteInput(), token);
    const e = await gql<{ executeDisbursement: { id: string; status: string } }>(
      url,
      EXECUTE,
      { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'npm-start-1', recipient: { msisdn: '+237670000001' } } },
      token,
    );
    expect(e.data?.executeDisbursement.status).toBe('PROCESSING');
    await expect
      .poll(async () => (await gql<{ payout: { status: string } }>(url, PAYOUT, { id: e.data?.executeDisbursement.id }, token)).data?.payout?.status, {
        timeout: 10_000,
        interval: 250,
      })
      .toBe('SUCCESS');
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${running.gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${running.gateway.url}/readyz`)).status).toBe(200);
  });
});
