/**
 * The child side of the bench's process protocol: a child announces `{type: 'ready', url}` over IPC once
 * it listens, and stops itself when the runner goes away (IPC disconnect) or signals it. The parent side
 * is processes.ts.
 */

export interface ReadyMessage {
  type: 'ready';
  url: string;
  pid: number;
}

export function isReadyMessage(m: unknown): m is ReadyMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r['type'] === 'ready' && typeof r['url'] === 'string' && typeof r['pid'] === 'number';
}

export function announceReady(url: string): void {
  const message: ReadyMessage = { type: 'ready', url, pid: process.pid };
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

/** No orphans: a child whose runner died (IPC closed) or who is told to stop closes and exits. */
export function exitWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const bye = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('disconnect', bye);
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

/** Environment variable that must be set (children are only ever started by the runner). */
export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
}
