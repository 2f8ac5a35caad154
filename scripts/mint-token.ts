/**
 * Mints a client token for a gateway configured with AUTH_JWT_SECRET (HS256), e.g. a second caller, a
 * back-office token, or one token for several instances that share the secret:
 *
 *   AUTH_JWT_SECRET=... npm run --silent token -- --sub alice --scope payouts:write --ttl 3600
 *
 * Prints the token alone. Issuer and audience come from AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when set.
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../src/auth/tokens.js';
import { MIN_JWT_SECRET_LENGTH } from '../src/config.js';
import { SCOPES } from '../src/auth/viewer.js';

const usage = 'usage: AUTH_JWT_SECRET=... npm run --silent token -- --sub <caller> [--scope "payouts:write payouts:read"] [--ttl <seconds>]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let values: { sub?: string; scope?: string; ttl?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { sub: { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean' } } }));
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const secret = process.env['AUTH_JWT_SECRET'];
if (!secret) fail('AUTH_JWT_SECRET is not set: mint tokens with the secret the gateway verifies them with.');
// The gateway refuses to start with a shorter one, so no gateway would ever accept this token.
if (secret.length < MIN_JWT_SECRET_LENGTH) fail(`AUTH_JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters, as the gateway requires.`);
if (!values.sub) fail('--sub is required: the caller the token stands for.');
const scope = values.scope ?? SCOPES.WRITE;
const known: readonly string[] = Object.values(SCOPES);
const unknown = scope.split(' ').filter((s) => s !== '' && !known.includes(s));
if (unknown.length > 0) fail(`unknown scope ${unknown.join(', ')}: the gateway knows ${known.join(' and ')}.`);
const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1) fail('--ttl must be a whole number of seconds, at least 1.');

const issuer = process.env['AUTH_JWT_ISSUER'];
const audience = process.env['AUTH_JWT_AUDIENCE'];
const token = await mintToken(secret, { sub: values.sub, scope, expiresInSeconds: ttl, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) });
process.stdout.write(`${token}\n`);
