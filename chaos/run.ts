/**
 * `npm run chaos` (package.json: "chaos": "tsx chaos/run.ts"): drives payouts through two gateway
 * instances, one Redis and the ZoPay sandbox while injecting faults, then checks the money invariants
 * against the sandbox's ledger. Exit status: 0 no violation, 1 violations, 2 the harness itself failed.
 */
import { runChaos } from './harness.js';
import { parseCli } from './options.js';
import { formatReport } from './report.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if ('help' in options) {
    process.stdout.write(options.help);
    return 0;
  }
  const started = Date.now();
  const log = (line: string) => {
    if (options.verbose || line.startsWith('phase') || line.startsWith('fault')) {
      process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
    }
  };
  const report = await runChaos(options, log);
  process.stdout.write(`${formatReport(report)}\n`);
  if (report.violations > 0) return 1;
  return report.harnessErrors.length > 0 ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('chaos harness failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
