import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_URL, loadSandboxConfig } from '../../sandbox/config.js';
import { SANDBOX_DEFAULTS } from '../../src/zopay/defaults.js';

describe('sandbox environment', () => {
  it('defaults to port 9000, the sandbox credentials and the gateway webhook URL', () => {
    expect(loadSandboxConfig({})).toEqual({
      ok: true,
      options: {
        port: 9000,
        host: '127.0.0.1',
        apiKey: SANDBOX_DEFAULTS.apiKey,
        apiSecret: SANDBOX_DEFAULTS.apiSecret,
        allowedOrigins: [SANDBOX_DEFAULTS.origin],
        webhookSecret: SANDBOX_DEFAULTS.webhookSecret,
        webhookUrl: DEFAULT_WEBHOOK_URL,
        timeScale: 1,
        rateLimitPerMinute: 100,
        processingDelayMs: 3000,
        startingBalance: '100000000',
      },
    });
  });

  it('reads every variable, a comma-separated origin list, and "off" for webhooks', () => {
    const r = loadSandboxConfig({
      SANDBOX_PORT: '9100',
      ZOPAY_ORIGIN: 'https://a.example, https://b.example',
      SANDBOX_WEBHOOK_URL: 'off',
      SANDBOX_TIME_SCALE: '60',
      SANDBOX_RATE_LIMIT: '5',
    });
    expect(r.ok && r.options).toMatchObject({
      port: 9100,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      webhookUrl: null,
      timeScale: 60,
      rateLimitPerMinute: 5,
    });
  });

  it('names every bad variable at once', () => {
    const r = loadSandboxConfig({ SANDBOX_PORT: 'abc', SANDBOX_TIME_SCALE: '-1', SANDBOX_WEBHOOK_URL: 'ftp://x' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['SANDBOX_PORT', 'SANDBOX_WEBHOOK_URL', 'SANDBOX_TIME_SCALE']);
  });
});

function runMain(env: Record<string, string>, untilOutput?: RegExp) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/main.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (untilOutput?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sandbox/main.ts', () => {
  it('prints one clear message and exits 1 on a bad value', async () => {
    const r = await runMain({ SANDBOX_RATE_LIMIT: 'lots' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid sandbox configuration');
    expect(r.stderr).toContain('SANDBOX_RATE_LIMIT');
  });

  it('starts, logs its address without secrets, and stops cleanly on SIGTERM', async () => {
    const r = await runMain({ SANDBOX_PORT: '0', SANDBOX_WEBHOOK_URL: 'off' }, /control API/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).not.toContain(SANDBOX_DEFAULTS.apiSecret);
    expect(r.stdout).not.toContain(SANDBOX_DEFAULTS.webhookSecret);
  });
});
