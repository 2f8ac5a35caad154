/**
 * Polls each gateway's /readyz once a second during the run: how long each instance was unreachable,
 * had no Redis, had its ZoPay circuit breaker open, or was holding its ZoPay calls back after a 429
 * (readyz shows both as `upstream: {circuit, pausedForMs}` without failing on them).
 */
export interface InstanceHealth {
  name: string;
  samples: number;
  unreachableS: number;
  storeDownS: number;
  breakerOpenS: number;
  /** Seconds sampled while ZoPay's last 429 held the instance's calls back. */
  pausedS: number;
  /** Times the breaker was seen going from closed to open. */
  breakerOpenings: number;
  /** When each opening was first seen and when the breaker was seen closed again (ms since epoch). */
  breakerPeriods: { from: number; to: number | undefined }[];
}

export class HealthMonitor {
  readonly health: InstanceHealth[];
  private timer: NodeJS.Timeout | undefined;
  private readonly lastBreakerOpen: boolean[];
  private readonly lastPaused: boolean[];

  constructor(private readonly instances: readonly { name: string; url: string }[]) {
    this.health = instances.map((i) => ({ name: i.name, samples: 0, unreachableS: 0, storeDownS: 0, breakerOpenS: 0, pausedS: 0, breakerOpenings: 0, breakerPeriods: [] }));
    this.lastBreakerOpen = instances.map(() => false);
    this.lastPaused = instances.map(() => false);
  }

  start(intervalMs = 1_000): void {
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all(this.instances.map((inst, i) => this.sample(inst.url, i, intervalMs / 1000))).finally(() => (busy = false));
    }, intervalMs);
    this.timer.unref();
  }

  /** At the last sample every instance had its breaker open or was paused by a 429: no request reaches ZoPay. */
  upstreamIdle(): boolean {
    return this.lastBreakerOpen.every((open, i) => open || this.lastPaused[i]);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sample(url: string, i: number, seconds: number): Promise<void> {
    const h = this.health[i] as InstanceHealth;
    h.samples++;
    const body = await readReadyz(url, 900);
    if (body === undefined) {
      h.unreachableS += seconds;
      return;
    }
    if (body.checks?.['store'] === false) h.storeDownS += seconds;
    const open = body.upstream?.circuit === 'open';
    const paused = typeof body.upstream?.pausedForMs === 'number' && body.upstream.pausedForMs > 0;
    this.lastPaused[i] = paused;
    if (paused) h.pausedS += seconds;
    if (open) h.breakerOpenS += seconds;
    if (open && !this.lastBreakerOpen[i]) {
      h.breakerOpenings++;
      h.breakerPeriods.push({ from: Date.now(), to: undefined });
    }
    if (!open && this.lastBreakerOpen[i]) {
      const last = h.breakerPeriods[h.breakerPeriods.length - 1];
      if (last) last.to = Date.now();
    }
    this.lastBreakerOpen[i] = open;
  }
}

/** What an instance's /readyz says: its checks, and its ZoPay circuit and 429 pause. */
export interface Readiness {
  checks?: Record<string, unknown>;
  upstream?: { circuit?: unknown; pausedForMs?: unknown };
}

/** An instance's /readyz; undefined when it does not answer in time. */
export async function readReadyz(url: string, timeoutMs: number): Promise<Readiness | undefined> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.json()) as Readiness;
  } catch {
    return undefined;
  }
}
