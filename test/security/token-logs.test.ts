/**
 * Tokens checked against a JWKS (AUTH_JWKS_URL). When the key set cannot be fetched every caller is
 * UNAUTHENTICATED: the operator must learn why, loudly but not once per request. A token that is itself
 * wrong (expired) is the client's problem: not an error line.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { gql } from '../helpers/gateway.js';
import { LogCapture } from './support.js';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'zopay-gateway';
const LIST = '{ payouts(first: 1) { totalCount } }';

let sandbox: Sandbox;
let jwks: Server;
let gateway: Gateway;
let serveKeys = false;
let keySet: { keys: unknown[] };
let sign: (claims: { sub: string; expiresIn: string; issuer?: string; audience?: string }) => Promise<string>;
const logs = new LogCapture();

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  keySet = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  sign = ({ sub, expiresIn, issuer = ISSUER, audience = AUDIENCE }) =>
    new SignJWT({ scope: 'payouts:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(sub).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime(expiresIn).sign(privateKey);
  jwks = createServer((_req, res) => {
    if (!serveKeys) {
      res.writeHead(503).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(keySet));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const addr = jwks.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  sandbox = await startSandbox({ port: 0, rateLimitPerMinute: 100_000, webhookUrl: null });
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'info', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });
  gateway = await startGateway({ config, zopayBaseUrl: sandbox.url, log: createLogger({ level: 'info', destination: logs }) });
});
afterAll(async () => {
  await gateway.close();
  await sandbox.close();
  jwks.closeAllConnections();
  await new Promise<void>((r) => jwks.close(() => r()));
});

const errorLines = () => logs.records().filter((r) => r['level'] === 50);

describe('a JWKS that cannot be fetched', () => {
  it('refuses every caller, logs why at error once (not per request), and recovers when the keys come back', async () => {
    const token = await sign({ sub: 'jwks-user', expiresIn: '10m' });
    for (let i = 0; i < 3; i++) expect((await gql(gateway.url, LIST, {}, token)).errors?.map((e) => e.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
    expect(errorLines().map((r) => r['msg'])).toEqual(['bearer tokens cannot be verified: the AUTH_JWKS_URL key set is unavailable; every caller is UNAUTHENTICATED']);
    expect(JSON.stringify(errorLines())).not.toContain(token);

    serveKeys = true;
    const ok = await gql<{ payouts: { totalCount: number } }>(gateway.url, LIST, {}, token);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.payouts.totalCount).toEqual(expect.any(Number));
  });

  it('an expired token is the client\'s problem: UNAUTHENTICATED, and no error line', async () => {
    serveKeys = true;
    const before = errorLines().length;
    const expired = await sign({ sub: 'jwks-late', expiresIn: '-1m' });
    expect((await gql(gateway.url, LIST, {}, expired)).errors?.map((e) => e.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
    expect(errorLines().length).toBe(before);
  });
});

describe('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', () => {
  it("a token signed by the right key for another issuer or another audience is refused (another service's token cannot pay)", async () => {
    serveKeys = true;
    const codes = async (token: string) => (await gql(gateway.url, LIST, {}, token)).errors?.map((e) => e.extensions?.['code']);
    expect(await codes(await sign({ sub: 'jwks-iss', expiresIn: '10m' }))).toBeUndefined();
    expect(await codes(await sign({ sub: 'jwks-iss', expiresIn: '10m', issuer: 'https://other-idp.test' }))).toEqual(['UNAUTHENTICATED']);
    expect(await codes(await sign({ sub: 'jwks-iss', expiresIn: '10m', audience: 'another-api' }))).toEqual(['UNAUTHENTICATED']);
  });
});
