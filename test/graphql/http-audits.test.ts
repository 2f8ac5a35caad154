/**
 * T53: graphql-http's audits of the GraphQL-over-HTTP spec, against the gateway over real HTTP, in
 * development (`npm start`'s defaults) and in production. Every MUST holds, and a SHOULD may fail only
 * if it is listed below with the reason, but for the audits that introspect where production refuses
 * introspection; the MAYs are the gateway's choice and not checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditServer, type AuditResult } from 'graphql-http';
import { startStack, type TestStack } from '../helpers/gateway.js';
import { startSecureStack, type SecureStack } from '../security/support.js';

/** SHOULD audits the gateway fails on purpose, by id, with the reason. None so far. */
const ALLOWED_SHOULD_FAILURES: Record<string, string> = {};
/**
 * Audits whose query is an introspection (`__type`): production refuses introspection (T44) unless
 * INTROSPECTION_ENABLED, so there they fail by policy, not by the HTTP layer (which the run with
 * introspection on checks).
 */
const INTROSPECTING_AUDITS = ['28B9', '2EA1'];

let dev: TestStack;
let prod: SecureStack;
let prodIntrospection: SecureStack;
beforeAll(async () => {
  [dev, prod, prodIntrospection] = await Promise.all([startStack(), startSecureStack(), startSecureStack({ env: { INTROSPECTION_ENABLED: 'true' } })]);
});
afterAll(async () => {
  await Promise.all([dev.close(), prod.close(), prodIntrospection.close()]);
});

const ids = (results: AuditResult[], status: AuditResult['status']) => results.filter((r) => r.status === status).map((r) => r.id);

describe('graphql-http server audits (T53)', () => {
  it.each([
    ['development', () => `${dev.gateway.url}/graphql`, []],
    ['production with introspection on', () => `${prodIntrospection.url}/graphql`, []],
    ['production (introspection off)', () => `${prod.url}/graphql`, INTROSPECTING_AUDITS],
  ])('%s: every MUST passes, and no SHOULD fails that is not allowed', async (_mode, url, refusedByPolicy) => {
    const results = await auditServer({ url: url() });
    expect(results.length).toBeGreaterThan(30);
    const failed = [...ids(results, 'error'), ...ids(results, 'warn').filter((id) => !(id in ALLOWED_SHOULD_FAILURES))];
    expect(failed.sort()).toEqual([...refusedByPolicy].sort());
  });
});
