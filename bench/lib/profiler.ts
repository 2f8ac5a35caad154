/**
 * CPU profile windows inside a child (gateway, baselines): the runner starts and stops the V8 profiler
 * over IPC around the part of a scenario it wants to see (a fan-out, not the subscribes before it), and
 * the child writes a `.cpuprofile` that `npx tsx bench/profile-summary.ts` summarises. Only with
 * `--profile`; profiled runs are not comparable with unprofiled ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import type { AskHandler } from './child.js';

export function profilerHandlers(): Record<string, AskHandler> {
  let session: Session | undefined;
  return {
    'profile-start': async (args) => {
      if (session) throw new Error('a profile is already running');
      const s = new Session();
      s.connect();
      await s.post('Profiler.enable');
      await s.post('Profiler.setSamplingInterval', { interval: Number(args['intervalUs'] ?? 200) });
      await s.post('Profiler.start');
      session = s;
      return { started: true };
    },
    'profile-stop': async (args) => {
      const s = session;
      if (!s) throw new Error('no profile is running');
      session = undefined;
      const { profile } = await s.post('Profiler.stop');
      await s.post('Profiler.disable');
      s.disconnect();
      const file = String(args['file']);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      return { file };
    },
  };
}
