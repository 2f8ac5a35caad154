/** scripts/mint-token.ts (`npm run token`): tokens the gateway accepts, and clear refusals. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/auth/tokens.js';

const SECRET = 'mint-token-test-secret-0123456789abcdef';

function mint(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const { AUTH_JWT_SECRET: _inherited, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/mint-token.ts', ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run token', () => {
  it('mints a token the gateway verifies with the same secret: caller, scopes and expiry as asked', async () => {
    const before = Date.now();
    const r = await mint(['--sub', 'back-office', '--scope', 'payouts:read payouts:write', '--ttl', '600'], { AUTH_JWT_SECRET: SECRET });
    expect(r.code).toBe(0);
    const viewer = await createTokenVerifier({ jwtSecret: SECRET })(r.stdout.trim());
    expect(viewer?.sub).toBe('back-office');
    expect([...(viewer?.scopes ?? [])].sort()).toEqual(['payouts:read', 'payouts:write']);
    expect(viewer?.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 599_000);
    expect(viewer?.expiresAt).toBeLessThanOrEqual(Date.now() + 601_000);
    // Another secret does not verify it.
    expect(await createTokenVerifier({ jwtSecret: `${SECRET}-other` })(r.stdout.trim())).toBeNull();
  });

  it('refuses without a secret or with one the gateway would refuse, without a caller, with an unknown scope or a bad ttl, printing nothing on stdout', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--sub', 'a'], {}, /AUTH_JWT_SECRET is not set/],
      [['--sub', 'a'], { AUTH_JWT_SECRET: 'short' }, /AUTH_JWT_SECRET must be at least 32 characters/],
      [['--sub', 'a'], { AUTH_JWT_SECRET: SECRET.slice(0, 31) }, /AUTH_JWT_SECRET must be at least 32 characters/],
      [[], { AUTH_JWT_SECRET: SECRET }, /--sub is required/],
      [['--sub', 'a', '--scope', 'admin'], { AUTH_JWT_SECRET: SECRET }, /unknown scope admin/],
      [['--sub', 'a', '--ttl', '0'], { AUTH_JWT_SECRET: SECRET }, /--ttl must be/],
    ];
    for (const [args, env, message] of cases) {
      const r = await mint(args, env);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    }
  });
});
