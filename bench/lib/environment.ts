/** What a result was measured on and with: printed with every table and stored in latest.json. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Environment {
  date: string;
  command: string;
  node: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  packages: Record<string, string>;
  redis: string;
  git: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine shows here. */
  loadAverage: { start: number; end: number };
}

const PACKAGES = ['graphql', 'graphql-yoga', '@pothos/core', 'undici', 'ioredis', 'jose', 'autocannon', 'tsx'] as const;

function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return 'missing';
  }
}

function git(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return dirty ? `${sha} + ${dirty} uncommitted paths` : sha;
  } catch {
    return 'unknown';
  }
}

/** The command as the user typed it (npm run bench -- …, or tsx directly). */
export function commandLine(argv: readonly string[]): string {
  const args = argv.join(' ');
  if (process.env['npm_lifecycle_event'] === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `npx tsx bench/run.ts${args ? ` ${args}` : ''}`;
}

export function describeEnvironment(argv: readonly string[], redisVersion: string, loadAtStart: number): Environment {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    command: commandLine(argv),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    redis: redisVersion.replace(/^Redis server /, '').split(' ').slice(0, 1).join(' '),
    git: git(),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? Number.NaN },
  };
}

export function renderEnvironment(e: Environment): string {
  return [
    `command:  ${e.command}`,
    `date:     ${e.date}`,
    `machine:  ${e.cpuModel}, os.cpus().length = ${e.cores}, ${e.memoryGiB} GiB, ${e.os}`,
    `versions: node ${e.node}, ${Object.entries(e.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}, redis ${e.redis}`,
    `commit:   ${e.git}`,
    `load:     1-min load average ${e.loadAverage.start.toFixed(2)} at start, ${e.loadAverage.end.toFixed(2)} at end (includes the bench itself)`,
  ].join('\n');
}
