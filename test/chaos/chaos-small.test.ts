/**
 * The chaos harness's CI configuration (`npm run chaos -- --quick`): two gateway processes, one Redis
 * (restarted mid-run), the sandbox, a gateway kill -9, upstream and webhook faults. Zero violations of
 * the money invariants, and every fault kind must really have happened.
 */
import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosReport } from '../../chaos/harness.js';
import { formatReport } from '../../chaos/report.js';

const REQUIRED_FAULTS = [
  'http500',
  'http503',
  'rate429',
  'slow',
  'commitThenHang',
  'commitThenReset',
  'resetBeforeCommit',
  'duplicate deliveries',
  'delayed deliveries',
  'out-of-order (stale PROCESSING)',
  'dropped attempts',
  'redis kill -9 + restart',
  'redis hung (SIGSTOP/SIGCONT)',
  'gateway kill -9 + restart',
  'gateway graceful restart (SIGTERM)',
  'concurrent duplicate execute on both instances',
  'execute retried with the same key on both instances',
  'mid-flight subscription (ws)',
  'mid-flight subscription (sse)',
];

describe('chaos harness, quick configuration', () => {
  it(
    'keeps every money invariant while faults of every kind are injected',
    async () => {
      let report: ChaosReport | undefined;
      try {
        report = await runChaos({ quick: true, seed: 7 });
      } finally {
        if (report) console.log(formatReport(report));
      }
      const happened = new Map(report.faults.map((f) => [f.kind, f.fired]));
      expect(REQUIRED_FAULTS.filter((k) => (happened.get(k) ?? 0) < 1)).toEqual([]);
      expect(report.harnessErrors).toEqual([]);
      expect(report.invariants.filter((i) => !i.advisory && i.violations > 0).map((i) => `${i.id}: ${i.examples[0] ?? ''}`)).toEqual([]);
      expect(report.payouts.started).toBe(report.options.payouts);
      expect(report.payouts.ledgerPayouts).toBe(report.payouts.answeredWithPayout);
      expect(report.subscriptions.subscribers).toBeGreaterThan(0);
    },
    240_000,
  );
});
