import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisConnection, waitForReady } from '../../src/lib/redis.js';

/**
 * A throwaway redis-server (Debian's binary on PATH) on a free 127.0.0.1 port, never the machine's
 * Redis on 6379. Stop it in afterAll; a process 'exit' hook SIGKILLs any server a crashed test file
 * left behind, so no orphan outlives the test run.
 */
export interface RedisServerHandle {
  url: string;
  port: number;
  /** A plain ioredis client (default options) closed by stop(). */
  client(): Redis;
  /** SIGTERM, wait for exit, close clients, delete the data directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash): the server can be started again with restart(). */
  kill(): Promise<void>;
  /** Start again on the same port (stopping it first if it runs). Persistent servers keep their data. */
  restart(): Promise<void>;
  /** Subscribers of `channel` (PUBSUB NUMSUB). */
  numSub(channel: string): Promise<number>;
  /** SIGSTOP: the server keeps its sockets open but answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedis(opts: { persistent?: boolean } = {}): Promise<RedisServerHandle> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zopay-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--daemonize', 'no',
    '--loglevel', 'warning',
    '--logfile', '',
    ...(opts.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  const clients = new Set<Redis>();
  let child: ChildProcess | undefined;
  let admin: Redis | undefined;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.once('exit', () => running.delete(proc));
    running.add(proc);
    child = proc;
    const spawnError = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}`)));
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
    spawnError.catch(() => undefined);
    await Promise.race([waitForPong(port, 5_000), spawnError]);
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  const url = `redis://127.0.0.1:${port}`;

  return {
    url,
    port,
    client() {
      const c = new Redis(url, { lazyConnect: false });
      c.on('error', () => undefined);
      clients.add(c);
      return c;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of [...clients, ...(admin ? [admin] : [])]) c.disconnect();
      clients.clear();
      await terminate('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('redis-server handle was stopped');
      await terminate('SIGTERM');
      await launch();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async numSub(channel: string) {
      admin ??= (() => {
        const c = new Redis(url, { maxRetriesPerRequest: 1 });
        c.on('error', () => undefined);
        return c;
      })();
      const reply = await admin.pubsub('NUMSUB', channel);
      return Number(reply[1]);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * A command connection (the gateway's own options) as a Redis user that may run every command on every
 * key but publish on no channel, so a PUBLISH fails with NOPERM wherever it runs, a script included.
 * close() disconnects and deletes the user.
 */
export async function connectWithoutPublish(server: RedisServerHandle, name: string): Promise<{ redis: Redis; close(): Promise<void> }> {
  const user = `${name}-${process.pid}`;
  await server.client().call('ACL', 'SETUSER', user, 'on', '>pw', '~*', 'resetchannels', '+@all');
  const url = new URL(server.url);
  url.username = user;
  url.password = 'pw';
  const redis = createRedisConnection(url.toString(), { name, role: 'command', onError: () => undefined });
  const close = async () => {
    redis.disconnect();
    await server.client().call('ACL', 'DELUSER', user);
  };
  try {
    await waitForReady(redis, 5_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, close };
}
