/**
 * Summarises V8 CPU profiles (`.cpuprofile`, from `npm run bench -- --profile`): self time by package
 * and by function, and total (inclusive) time by function, over one or more profiles added together.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/fanout-fire-*.cpuprofile
 *   npx tsx bench/profile-summary.ts --top=40 bench/results/profiles/subscribers
 *
 * A directory stands for every .cpuprofile directly in it. Percentages are of the non-idle time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const IDLE = new Set(['(idle)']);

/** node_modules package, src/ or bench/ file, node internals, or V8's pseudo-frames. */
export function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node: (internals)';
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  for (const marker of ['/src/', '/bench/']) {
    const i = url.indexOf(marker);
    if (i >= 0) return url.slice(i + 1);
  }
  return url.replace(/^file:\/\//, '');
}

const functionKey = (f: CallFrame) => `${f.functionName || '(anonymous)'}  ${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

export interface Summary {
  files: number;
  totalMs: number;
  idleMs: number;
  byGroup: Map<string, number>;
  selfByFunction: Map<string, number>;
  totalByFunction: Map<string, number>;
}

export function summarise(profiles: readonly CpuProfile[]): Summary {
  const s: Summary = { files: profiles.length, totalMs: 0, idleMs: 0, byGroup: new Map(), selfByFunction: new Map(), totalByFunction: new Map() };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      // A sample lasts until the next one (the last one: the mean interval).
      const us = i + 1 < deltas.length ? (deltas[i + 1] as number) : (p.endTime - p.startTime) / Math.max(1, samples.length);
      const ms = Math.max(0, us) / 1000;
      const node = byId.get(samples[i] as number);
      if (!node) continue;
      s.totalMs += ms;
      if (IDLE.has(node.callFrame.functionName)) {
        s.idleMs += ms;
        continue;
      }
      add(s.byGroup, groupOf(node.callFrame), ms);
      add(s.selfByFunction, functionKey(node.callFrame), ms);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)?.callFrame;
        if (!f || f.functionName === '(root)') continue;
        const k = functionKey(f);
        if (seen.has(k)) continue;
        seen.add(k);
        add(s.totalByFunction, k, ms);
      }
    }
  }
  return s;
}

function profileFiles(args: readonly string[]): string[] {
  return args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(a, f))
      : [a],
  );
}

export function render(s: Summary, top: number): string {
  const busy = s.totalMs - s.idleMs;
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `  ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return [
    `${s.files} profile(s): ${s.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle`,
    `self time by package / file:\n${rows(s.byGroup, 25)}`,
    `top ${top} functions by self time:\n${rows(s.selfByFunction, top)}`,
    `top ${top} functions by total (inclusive) time:\n${rows(s.totalByFunction, top)}`,
  ].join('\n\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const topArg = args.find((a) => a.startsWith('--top='));
  const top = topArg ? Number(topArg.slice('--top='.length)) : 30;
  const files = profileFiles(args.filter((a) => !a.startsWith('--')));
  if (files.length === 0) {
    console.error('usage: npx tsx bench/profile-summary.ts [--top=N] <file.cpuprofile | dir>...');
    process.exit(2);
  }
  const profiles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
  console.log(render(summarise(profiles), top));
}
