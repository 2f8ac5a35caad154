/** Redis' own account of the commands it ran (INFO commandstats): calls and CPU microseconds per command. */
import type { Redis } from 'ioredis';

export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function commandStats(client: Redis): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/** "evalsha 2.00 calls 61.3 µs": what each command cost per unit of work between two snapshots. */
export function perUnit(before: CommandStats, after: CommandStats, units: number, skip: readonly string[] = ['info']): string {
  const parts: string[] = [];
  for (const [name, a] of after) {
    if (skip.includes(name)) continue;
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    const calls = a.calls - b.calls;
    if (calls <= 0 || units <= 0) continue;
    parts.push(`${name} ${(calls / units).toFixed(2)} calls ${((a.usec - b.usec) / units).toFixed(1)} µs`);
  }
  return parts.join(', ') || 'none';
}
