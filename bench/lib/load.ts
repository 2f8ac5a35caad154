/**
 * The two load drivers. Both send POSTs whose body (and extra headers) are built per request, check every
 * response (status and body), keep the first failing request/response verbatim, and report precise
 * latencies.
 *
 * - `closedLoop`: autocannon with N connections, each sending its next request when the previous one is
 *   answered: the throughput a server sustains at that concurrency.
 * - `openLoop`: a fixed offered rate with uniform arrivals, independent of how fast answers come back;
 *   latency is measured from when each request was due, so queueing is not hidden (no coordinated
 *   omission). autocannon's `overallRate` is not used for this: it gives every connection a per-second
 *   quota that it sends back to back at the start of each second, so its "2,000 req/s" is bursts at full
 *   concurrency followed by idle time.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { summarize, type LatencySummary } from './stats.js';

export interface BuiltRequest {
  body: string;
  headers?: Record<string, string>;
}

export interface LoadSpec {
  origin: string;
  path: string;
  headers: Record<string, string>;
  build: () => BuiltRequest;
  /** A failure description for a 2xx body that is not a success; undefined when the answer is good. */
  check: (body: string) => string | undefined;
}

export interface FailureSample {
  request: string;
  status: number;
  response: string;
  problem: string;
}

export interface RunResult {
  driver: 'autocannon' | 'open-loop';
  durationS: number;
  /** 2xx answers whose body passed `check`. */
  ok: number;
  /** ok per second of the run. */
  rps: number;
  latency: LatencySummary;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  badBodies: number;
  statusCodes: Record<string, number>;
  firstFailure?: FailureSample;
  /** Open loop only. */
  offeredRps?: number;
  /** Open loop only: requests not sent on schedule because too many were outstanding. */
  unsent?: number;
}

/** Requests that failed (an overloaded open loop's unsent requests are not failures: see `unsent`). */
export const failedCount = (r: RunResult): number => r.errors + r.non2xx + r.badBodies;

class Checker {
  ok = 0;
  non2xx = 0;
  badBodies = 0;
  statusCodes: Record<string, number> = {};
  firstFailure: FailureSample | undefined;

  constructor(private readonly check: LoadSpec['check']) {}

  record(status: number, request: string, body: string): void {
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    const problem = status < 200 || status > 299 ? `HTTP ${status}` : this.check(body);
    if (problem === undefined) {
      this.ok++;
      return;
    }
    if (status < 200 || status > 299) this.non2xx++;
    else this.badBodies++;
    this.firstFailure ??= { request: request.slice(0, 2_000), status, response: body.slice(0, 2_000), problem };
  }
}

export async function closedLoop(spec: LoadSpec, opts: { connections: number; durationS: number }): Promise<RunResult> {
  const checker = new Checker(spec.check);
  const latencies: number[] = [];
  const instance = autocannon({
    url: spec.origin,
    connections: opts.connections,
    duration: opts.durationS,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: spec.path,
        headers: spec.headers,
        setupRequest: (req, context) => {
          const built = spec.build();
          context['sent'] = built.body;
          return { ...req, body: built.body, headers: { ...req.headers, ...built.headers } };
        },
        onResponse: (status, body, context) => checker.record(status, String(context['sent'] ?? ''), body),
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  return {
    driver: 'autocannon',
    durationS: result.duration,
    ok: checker.ok,
    rps: checker.ok / result.duration,
    latency: summarize(latencies),
    errors: result.errors + result.timeouts,
    non2xx: checker.non2xx,
    badBodies: checker.badBodies,
    statusCodes: checker.statusCodes,
    ...(checker.firstFailure ? { firstFailure: checker.firstFailure } : {}),
  };
}

export async function openLoop(spec: LoadSpec, opts: { ratePerS: number; durationS: number; maxOutstanding?: number }): Promise<RunResult> {
  const checker = new Checker(spec.check);
  const latencies: number[] = [];
  const maxOutstanding = opts.maxOutstanding ?? Math.max(500, opts.ratePerS);
  const pool = new Pool(spec.origin, { connections: 256, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const total = Math.round(opts.ratePerS * opts.durationS);
  const intervalMs = 1000 / opts.ratePerS;
  const pending = new Set<Promise<void>>();
  let errors = 0;
  let unsent = 0;
  let scheduled = 0;

  const fire = (dueAt: number): void => {
    const built = spec.build();
    const p = pool
      .request({ method: 'POST', path: spec.path, headers: { ...spec.headers, ...built.headers }, body: built.body })
      .then(async (res) => {
        const text = await res.body.text();
        latencies.push(performance.now() - dueAt);
        checker.record(res.statusCode, built.body, text);
      })
      .catch((err: unknown) => {
        errors++;
        checker.firstFailure ??= { request: built.body, status: 0, response: String(err), problem: 'request error' };
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; scheduled < due; scheduled++) {
        if (pending.size >= maxOutstanding) unsent++;
        else fire(start + scheduled * intervalMs);
      }
      if (scheduled >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all([...pending]);
  const durationS = (performance.now() - start) / 1000;
  await pool.close();
  return {
    driver: 'open-loop',
    durationS,
    ok: checker.ok,
    rps: checker.ok / durationS,
    latency: summarize(latencies),
    errors,
    non2xx: checker.non2xx,
    badBodies: checker.badBodies,
    statusCodes: checker.statusCodes,
    offeredRps: opts.ratePerS,
    unsent,
    ...(checker.firstFailure ? { firstFailure: checker.firstFailure } : {}),
  };
}
