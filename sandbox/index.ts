/**
 * The ZoPay sandbox: a faithful simulator of the merchant disbursement API (zopay-api.md, with the §9
 * assumptions deciding what the docs leave open). `startSandbox()` for tests, `sandbox/main.ts` for
 * `npm run sandbox`. src/ never imports this directory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApi } from './api.js';
import { CONTROL_PREFIX, handleControl } from './control.js';
import { createCore } from './core.js';
import { sendReply } from './http.js';
import { resolveOptions } from './options.js';
import { ERROR_CODES, errorReply } from './reply.js';
import type { Sandbox, SandboxOptions } from './types.js';
import { validateWebhookFaults } from './faults.js';

export type * from './types.js';
export { FAULT_KINDS } from './types.js';
export { BEHAVIOURS as TEST_NUMBER_BEHAVIOURS } from './test-numbers.js';
export { RETRY_DELAYS_MS, MAX_ATTEMPTS as WEBHOOK_MAX_ATTEMPTS } from './webhooks.js';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const opts = resolveOptions(options);
  const core = createCore(opts);

  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    core.scheduler.close();
    await core.sender.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  const sandbox: Omit<Sandbox, 'url' | 'port'> = {
    requests: core.requests,
    ledger: core.ledger.view(),
    webhooks: core.webhooks.api,
    faults: {
      inject: (rule) => core.faults.inject(rule),
      clear: () => {
        core.faults.clear();
        core.webhooks.setFaults({});
      },
      setWebhookFaults: (f) => core.webhooks.setFaults(validateWebhookFaults(f)),
      active: () => core.faults.active(),
    },
    setWebhookUrl: (url) => core.webhooks.api.setUrl(url),
    settle: (payoutId, status, error) => core.lifecycle.settle(payoutId, status, error),
    // Idempotent: tests may close explicitly and again in a cleanup hook.
    close: () => (closing ??= shutdown()),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const handling = path.startsWith('/api/v1/')
      ? handleApi(core, req, res)
      : path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)
        ? handleControl(sandbox, req, res)
        : Promise.resolve(sendReply(res, errorReply(404, ERROR_CODES.NOT_FOUND, 'Not found')));
    handling.catch((err: unknown) => {
      opts.log(`unhandled error: ${err instanceof Error ? err.message : String(err)}`);
      sendReply(res, errorReply(500, ERROR_CODES.INTERNAL_ERROR, 'Internal server error'));
    });
  });
  // A client that gave up on a hanging request must not leave an error event unhandled.
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  opts.log(`ZoPay sandbox listening on ${url}`);
  return { ...sandbox, url, port };
}
