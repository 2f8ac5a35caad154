import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through to the sandbox that can swallow the next execute: it reads the request and neither
 * forwards nor answers it, so ZoPay never learns of it (as if the gateway had died before sending).
 */
export async function startSwallowingProxy(target: string) {
  const executes: { idempotencyKey: string; forwarded: boolean }[] = [];
  let swallowNext = false;
  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (req.url === '/api/v1/disbursements/execute') {
        const key = (JSON.parse(body.toString('utf8')) as { idempotency_key: string }).idempotency_key;
        const forwarded = !swallowNext;
        executes.push({ idempotencyKey: key, forwarded });
        if (!forwarded) {
          swallowNext = false;
          return; // held: no answer, nothing forwarded
        }
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(name)) headers[name] = value;
      }
      const upstream = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) });
      const answer = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(answer);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    executes,
    swallowNextExecute: () => {
      swallowNext = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
