/**
 * The harness's child processes: the sandbox and the gateway instances (`node --import tsx …`), each
 * logging to a file in the run directory. Every child is registered the moment it is spawned and killed
 * by its own pid on exit, SIGINT or SIGTERM, so no orphan outlives the run. Redis is chaos/redis.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** SIGKILLs every child still running (the harness's last resort on exit). */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
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

/** A minimal environment: nothing from the harness's own (test runner, NODE_OPTIONS) leaks into children. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

export interface ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /** True while the process runs and has answered its readiness probe. */
  readonly up: boolean;
  /**
   * Exits we did not cause. `graceful`: exit code 0 without a signal, i.e. main.ts shut down cleanly on a
   * SIGTERM/SIGINT someone else sent (another process on the machine); anything else is a crash.
   */
  readonly unexpectedExits: { code: number | null; signal: string | null; at: number; graceful: boolean; restarted: boolean }[];
  pid(): number | undefined;
  /** SIGKILL (a crash); resolves when the process is gone. */
  kill(): Promise<void>;
  /** Start again on the same port and wait until ready. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; the service stays down. */
  stop(): Promise<void>;
  /** SIGTERM (a graceful shutdown, as in a rolling deploy), waiting for the exit; start() it again after. */
  terminate(): Promise<void>;
  /** The last bytes of its log. */
  logTail(bytes?: number): string;
}

export interface ServiceSpec {
  name: string;
  /** Script path relative to the repo root. */
  script: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  /** Path answering 200 once the service is ready. */
  readyPath: string;
  readyTimeoutMs?: number;
  /** Start the process again when it exits without us asking (as an orchestrator would). */
  restartOnUnexpectedExit?: boolean;
  onUnexpectedExit?: (name: string, code: number | null, signal: string | null) => void;
}

export function createService(spec: ServiceSpec): ServiceProcess {
  installExitHooks();
  const url = `http://127.0.0.1:${spec.port}`;
  let child: ChildProcess | undefined;
  let up = false;
  let expectingExit = false;
  let stopped = false;
  let startedOnce = false;
  const unexpectedExits: ServiceProcess['unexpectedExits'] = [];

  const waitExit = (proc: ChildProcess): Promise<void> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', () => resolve()));

  const service: ServiceProcess = {
    name: spec.name,
    url,
    port: spec.port,
    logFile: spec.logFile,
    get up() {
      return up;
    },
    unexpectedExits,
    pid: () => child?.pid,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${spec.name} is already running`);
      const fd = openSync(spec.logFile, 'a');
      const proc = spawn(process.execPath, ['--import', 'tsx', spec.script], {
        cwd: REPO_ROOT,
        env: { ...baseEnv(), ...spec.env },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      child = proc;
      expectingExit = false;
      live.add(proc);
      let exited = false;
      proc.once('exit', (code, signal) => {
        exited = true;
        live.delete(proc);
        if (child === proc) up = false;
        if (expectingExit) return;
        const entry = { code, signal, at: Date.now(), graceful: code === 0 && signal === null, restarted: false };
        unexpectedExits.push(entry);
        spec.onUnexpectedExit?.(spec.name, code, signal);
        if (spec.restartOnUnexpectedExit && !stopped && child === proc && up === false && startedOnce) {
          entry.restarted = true;
          setTimeout(() => {
            if (!stopped && child === proc) service.start().catch(() => undefined);
          }, 300);
        }
      });
      const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
      for (;;) {
        if (exited) throw new Error(`${spec.name} exited during start-up:\n${service.logTail()}`);
        if (await probe(`${url}${spec.readyPath}`)) break;
        if (Date.now() > deadline) {
          await service.kill();
          throw new Error(`${spec.name} not ready after ${spec.readyTimeoutMs ?? 60_000} ms:\n${service.logTail()}`);
        }
        await sleep(100);
      }
      up = true;
      startedOnce = true;
    },
    async kill() {
      const proc = child;
      if (!proc) return;
      expectingExit = true;
      up = false;
      proc.kill('SIGKILL');
      await waitExit(proc);
    },
    async stop() {
      stopped = true;
      await service.terminate();
    },
    async terminate() {
      const proc = child;
      if (!proc) return;
      expectingExit = true;
      up = false;
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      proc.kill('SIGTERM');
      await waitExit(proc);
      clearTimeout(timer);
    },
    logTail(bytes = 3_000) {
      try {
        const text = readFileSync(spec.logFile, 'utf8');
        return text.slice(-bytes);
      } catch {
        return '';
      }
    },
  };
  return service;
}

async function probe(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
