/** The summary table printed at the end of a run (plain text, also pasted into chaos/README.md). */
import type { ChaosReport } from './harness.js';

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], align: readonly ('l' | 'r')[] = []): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    '| ' + r.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (align[i] === 'r' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(cells[0] as string[]), sep, ...cells.slice(1).map(line)].join('\n');
}

export function formatReport(r: ChaosReport): string {
  const out: string[] = [];
  const p = r.payouts;
  out.push(`zopay-gateway chaos run: ${r.command}`);
  out.push(
    `started ${r.startedAt}, ${(r.durationMs / 1000).toFixed(1)} s (${r.phases.map((x) => `${x.name} ${(x.ms / 1000).toFixed(1)} s`).join(', ')}); ` +
      `2 gateway instances, Redis ${r.options.redisPersistence === 'none' ? 'without persistence' : `AOF appendfsync ${r.options.redisPersistence}`}, ${r.options.clients} clients, ${r.options.callers} callers`,
  );
  out.push('');
  out.push('Payouts');
  out.push(
    table(
      ['keys started', 'answered Payout', 'refused', 'unresolved', 'no quote', 'shared-key pairs', 'ZoPay payouts', 'SUCCESS', 'FAILED', 'non-final', 'settled by harness'],
      [[p.started, p.answeredWithPayout, p.refused, p.unresolved, p.noQuote, p.sharedKeyPairs, p.ledgerPayouts, p.ledgerSuccess, p.ledgerFailed, p.ledgerNonFinal, `${p.settledNeverFinishing} (…05) + ${p.settledStragglers}`]],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  out.push('Faults injected (by kind)');
  out.push(
    table(
      ['category', 'kind', 'armed', 'happened', 'detail'],
      r.faults.map((f) => [f.category, f.kind, f.injected, f.fired, f.note ?? '']),
      ['l', 'l', 'r', 'r', 'l'],
    ),
  );
  out.push('');
  out.push('Client retries (by operation and reason)');
  out.push(table(['reason', 'count'], r.retries.length ? r.retries : [['(none)', 0]], ['l', 'r']));
  out.push('');
  const s = r.subscriptions;
  const w = r.webhooks;
  out.push('Subscriptions and webhooks');
  out.push(
    table(
      ['subscribers', 'ws', 'sse', 'payouts:read', 'stream attempts', 'got final', 'cut off', 'deliveries', 'attempts', 'non-2xx/lost', 'dead-lettered', 'proxy 502'],
      [[s.subscribers, s.ws, s.sse, s.watchers, s.attempts, s.gotFinal, s.cutoff, w.deliveries, w.attempts, w.non2xxAttempts, w.deadLettered, w.proxy.unreachable]],
      Array(12).fill('r') as 'r'[],
    ),
  );
  out.push('');
  out.push('Invariants');
  out.push(
    table(
      ['invariant', 'checked', 'violations'],
      r.invariants.map((i) => [`${i.id}: ${i.title}`, i.checked, i.advisory ? `(${i.violations})` : i.violations]),
      ['l', 'r', 'r'],
    ),
  );
  for (const i of r.invariants.filter((x) => x.violations > 0)) {
    out.push('');
    out.push(`${i.id}: ${i.violations} ${i.advisory ? 'advisory finding(s), not counted' : 'violation(s)'}, first ${i.examples.length}:`);
    for (const e of i.examples) out.push(`  - ${e}`);
  }
  const warnings = r.gatewayLog.filter((l) => l.level !== 'warn' || l.count > 0).slice(0, 10);
  if (warnings.length > 0) {
    out.push('');
    out.push('Gateway log (warn and above, both instances, most frequent)');
    out.push(table(['level', 'message', 'count'], warnings.map((l) => [l.level, l.msg.slice(0, 100), l.count]), ['l', 'l', 'r']));
  }
  if (r.health.length > 0) {
    out.push('');
    out.push('Gateway health (sampled from /readyz every second)');
    out.push(
      table(
        ['instance', 'samples', 'unreachable s', 'Redis down s', 'breaker open s', 'breaker openings', '429 pause s'],
        r.health.map((h) => [h.name, h.samples, h.unreachableS.toFixed(0), h.storeDownS.toFixed(0), h.breakerOpenS.toFixed(0), h.breakerOpenings, h.pausedS.toFixed(0)]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  if (r.notes.length > 0) {
    out.push('');
    out.push('Notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  if (r.harnessErrors.length > 0) {
    out.push('');
    out.push(`Harness errors (${r.harnessErrors.length}):`);
    for (const e of r.harnessErrors.slice(0, 20)) out.push(`  - ${e}`);
  }
  out.push('');
  out.push(
    r.ok
      ? `RESULT: PASS (0 violations) — logs and report.json in ${r.outDir}`
      : `RESULT: FAIL (${r.violations} violation(s)${r.harnessErrors.length ? `, ${r.harnessErrors.length} harness error(s)` : ''}) — logs and report.json in ${r.outDir}`,
  );
  return out.join('\n');
}
