/**
 * The webhook load balancer: ZoPay (the sandbox) posts to one URL; this forwards each delivery, raw
 * bytes and headers untouched, to the gateway instances round-robin, skipping an instance that refuses
 * the connection (killed). The instance's status code goes back to the sandbox, so a 503 (Redis down)
 * still makes ZoPay retry; 502 when no instance could be reached.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface ProxyStats {
  received: number;
  forwarded: Record<string, number>;
  /** Forward attempts that failed at the connection level (instance down). */
  connectFailures: number;
  /** Deliveries answered 502 because no instance could be reached. */
  unreachable: number;
  /** Status codes returned to the sandbox. */
  statuses: Record<string, number>;
}

export interface WebhookProxy {
  url: string;
  stats: ProxyStats;
  close(): Promise<void>;
}

const FORWARDED_HEADERS = ['content-type', 'x-zo-event', 'x-zo-delivery-id', 'x-zo-timestamp', 'x-zo-signature', 'x-zo-replay'];

export async function startWebhookProxy(targets: readonly { name: string; url: string }[], path = '/webhooks/zopay'): Promise<WebhookProxy> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 2_000, connect: { timeout: 1_000 } });
  const stats: ProxyStats = { received: 0, forwarded: {}, connectFailures: 0, unreachable: 0, statuses: {} };
  let next = 0;

  const forward = async (req: IncomingMessage, body: Buffer): Promise<{ status: number; body: string }> => {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const start = next++ % targets.length;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(start + i) % targets.length] as { name: string; url: string };
      try {
        const res = await request(`${target.url}${path}`, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          headersTimeout: 5_000,
          bodyTimeout: 5_000,
        });
        const text = await res.body.text();
        stats.forwarded[target.name] = (stats.forwarded[target.name] ?? 0) + 1;
        return { status: res.statusCode, body: text };
      } catch {
        // Connection refused or reset: the instance is down (or died mid-request); try the next one.
        stats.connectFailures++;
      }
    }
    stats.unreachable++;
    return { status: 502, body: '{"error":"no gateway instance reachable"}' };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.received++;
      forward(req, Buffer.concat(chunks)).then(
        (r) => {
          stats.statuses[String(r.status)] = (stats.statuses[String(r.status)] ?? 0) + 1;
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(r.body);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
