import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { run, type Running } from '../../src/main.js';
import { EXECUTE, PAYOUT, QUOTE, gql, quoteInput } from '../helpers/gateway.js';

let running: Running;

beforeAll(async () => {
  // npm start's code path with no environment (from source), but on free ports and quiet.
  running = await run(loadConfig({ PORT: '0', SANDBOX_PORT: '0', LOG_LEVEL: 'silent', SANDBOX_TIME_SCALE: '10' }));
});
afterAll(() => running.stop());

describe('npm start with no configuration', () => {
  it('runs the embedded sandbox and prints a dev token', () => {
    expect(running.sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.gateway.devToken).toEqual(expect.any(String));
  });

  it('serves GraphiQL to browsers, with its assets served locally (no CDN)', async () => {
    const res = await fetch(`${running.gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('ExecuteDisbursement');
    expect(html).toContain(running.gateway.devToken as string);
    // Nothing is fetched from another host, GraphiQL's files nor its icon.
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).not.toContain('unpkg.com');
    expect(html).not.toContain('__TITLE__');
    const script = await fetch(`${running.gateway.url}/graphiql/yoga-graphiql.umd.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${running.gateway.url}/graphiql/../package.json`)).status).toBe(404);
    // Names an object has by inheritance are no assets either (they were a 500 and an error log line).
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect((await fetch(`${running.gateway.url}/graphiql/${name}`)).status).toBe(404);
    }
  });

  it('streams a subscription the way GraphiQL asks for it (SSE over GET with its CSRF header)', async () => {
    const url = running.gateway.url;
    const token = running.gateway.devToken as string;
    const q = await gql<{ createQuote: { id: string } }>(url, QUOTE, quoteInput('+237670000001'), token);
    const e = await gql<{ executeDisbursement: { id: string } }>(
      url,
      EXECUTE,
      { input: { quoteId: q.data?.createQuote.id, idempotencyKey: 'npm-start-sse', recipient: { msisdn: '+237670000001' } } },
      token,
    );
    const query = `subscription { payoutStatus(payoutId: "${e.data?.executeDisbursement.id}") { status } }`;
    const res = await fetch(`${url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': 'graphiql' },
    });
    const text = await res.text(); // ends when the subscription completes after the final status
    expect(text).toContain('"status":"SUCCESS"');
    expect(text).toContain('event: complete');
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

describe('npm start when a port is taken', () => {
  it('says which port, what wanted it and which setting moves it', async () => {
    const sandboxPort = Number(new URL(running.sandboxUrl as string).port);
    const gatewayPort = Number(new URL(running.gateway.url).port);
    const base = { LOG_LEVEL: 'silent' };
    await expect(run(loadConfig({ ...base, PORT: '0', SANDBOX_PORT: String(sandboxPort) }))).rejects.toThrow(
      `port ${sandboxPort} (the embedded sandbox) is already in use: stop what holds it, or choose another port with SANDBOX_PORT=<port>`,
    );
    await expect(run(loadConfig({ ...base, PORT: String(gatewayPort), SANDBOX_PORT: '0' }))).rejects.toThrow(
      `port ${gatewayPort} (the gateway) is already in use: stop what holds it, or choose another port with PORT=<port>`,
    );
    // The first one still serves, and a start on free ports still works.
    expect((await fetch(`${running.gateway.url}/healthz`)).status).toBe(200);
    const again = await run(loadConfig({ ...base, PORT: '0', SANDBOX_PORT: '0' }));
    await again.stop();
  });
});
