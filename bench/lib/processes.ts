/**
 * The parent side of the bench's processes: every child (stub, baseline, gateway, redis-server) is
 * registered here as soon as it is spawned, so `stopAll` (called in the runner's finally and on
 * SIGINT/SIGTERM) leaves no orphan. Children are stopped by their own pid, never by name.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { isAnswerMessage, isReadyMessage, type AskMessage } from './child.js';

export interface ChildHandle {
  name: string;
  pid: number;
  url: string;
  /** User + system CPU seconds the process has used so far (all threads); undefined without /proc. */
  cpuSeconds(): number | undefined;
  /** A question over IPC, answered by the child's `answerQuestions` handler of that type. */
  ask<T>(type: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

const running = new Set<ChildHandle>();
const STDERR_TAIL = 4_000;

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const CLK_TCK = clockTicks();

export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

let askSeq = 0;

function ask<T>(name: string, child: ChildProcess, type: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<T> {
  if (!child.send || !child.connected) return Promise.reject(new Error(`${name} has no IPC channel`));
  const seq = ++askSeq;
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${name} did not answer ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = () => {
      done();
      reject(new Error(`${name} exited before answering ${type}`));
    };
    const onMessage = (m: unknown) => {
      if (!isAnswerMessage(m) || m.seq !== seq) return;
      done();
      if (m.error !== undefined) reject(new Error(`${name} ${type}: ${m.error}`));
      else resolve(m.result as T);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    const message: AskMessage = { type, seq, ...(args ? { args } : {}) };
    child.send(message);
  });
}

function register(name: string, child: ChildProcess, url: string): ChildHandle {
  const pid = child.pid as number;
  const handle: ChildHandle = {
    name,
    pid,
    url,
    cpuSeconds: () => cpuSecondsOf(pid),
    ask: <T>(type: string, args?: Record<string, unknown>, timeoutMs = 60_000) => ask<T>(name, child, type, args, timeoutMs),
    stop: async () => {
      running.delete(handle);
      await stopProcess(child);
    },
  };
  running.add(handle);
  return handle;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));

/**
 * Compiles the gateway, the sandbox and the bench with tsc (bench/tsconfig.build.json → bench/.build),
 * the way `npm run build` compiles what `npm start` runs. Every child then runs as plain JavaScript:
 * tsx's on-the-fly transform keeps function names by defining a `name` property on every named
 * closure it creates, which costs memory and CPU that no deployment pays.
 */
export function buildChildren(): void {
  execFileSync(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', join(REPO_ROOT, 'bench/tsconfig.build.json')], { stdio: 'inherit' });
}

/** Starts the compiled form of `<file>` (see buildChildren) with plain node and waits for its ready message (its URL). */
export function spawnTsChild(
  name: string,
  file: string,
  env: NodeJS.ProcessEnv,
  opts: { nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<ChildHandle> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const compiled = join(BUILD_DIR, relative(REPO_ROOT, file)).replace(/\.ts$/, '.js');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), compiled], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const provisional = register(name, child, '');
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      void provisional.stop();
      reject(err);
    };
    child.once('exit', (code, signal) => fail(new Error(`${name} exited before it was ready (code ${code}, signal ${signal}):\n${tail}`)));
    child.once('error', fail);
    child.on('message', (m: unknown) => {
      if (!isReadyMessage(m)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      running.delete(provisional);
      resolve(register(name, child, m.url));
    });
  });
}

export interface RedisHandle extends ChildHandle {
  version: string;
}

/** A throwaway redis-server on a free loopback port: no persistence, default `noeviction`. */
export async function startRedis(): Promise<RedisHandle> {
  let version: string;
  try {
    version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('redis-server is not on the PATH (apt-get install -y redis-server): the deployed configuration uses Redis');
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const handle = register('redis', child, `redis://127.0.0.1:${port}`);
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(handle.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (err) {
      if (attempt >= 50) {
        await handle.stop();
        throw new Error(`redis-server did not answer on port ${port}`, { cause: err });
      }
      await sleep(100);
    } finally {
      probe.disconnect();
    }
  }
  return { ...handle, version };
}

/** Stops every child still registered, newest first. */
export async function stopAll(): Promise<void> {
  const all = [...running].reverse();
  await Promise.all(all.map((h) => h.stop()));
}

/** The machine-wide `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal …, in ticks. */
function procStatCpu(): number[] | undefined {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return undefined;
  }
}

/**
 * Busy CPU seconds of the whole machine so far (all cores: user, nice, system, irq, softirq; softirq
 * time may be charged to the process it interrupted, so it is counted on both sides); undefined without
 * /proc.
 */
export function machineCpuSeconds(): number | undefined {
  const f = procStatCpu();
  return f && ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)) / CLK_TCK;
}

/** CPU seconds the hypervisor gave to other guests while this one wanted to run ("steal"), all cores. */
export function machineStealSeconds(): number | undefined {
  const steal = procStatCpu()?.[7];
  return steal !== undefined && Number.isFinite(steal) ? steal / CLK_TCK : undefined;
}

/** CPU seconds of this process and every child still registered. */
export function benchCpuSeconds(): number {
  const self = process.cpuUsage();
  let s = (self.user + self.system) / 1e6;
  for (const h of running) s += h.cpuSeconds() ?? 0;
  return s;
}
