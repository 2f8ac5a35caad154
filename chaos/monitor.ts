/**
 * Polls each gateway's /readyz once a second during the run: how long each instance was unreachable,
 * had no Redis, or had its ZoPay circuit breaker open (readyz reports `upstream: false` then).
 */
export interface InstanceHealth {
  name: string;
  samples: number;
  unreachableS: number;
  storeDownS: number;
  breakerOpenS: number;
  /** Times the breaker was seen going from closed to open. */
  breakerOpenings: number;
  /** When each opening was first seen and when the breaker was seen closed again (ms since epoch). */
  breakerPeriods: { from: number; to: number | undefined }[];
}

export class HealthMonitor {
  readonly health: InstanceHealth[];
  private timer: NodeJS.Timeout | undefined;
  private readonly lastBreakerOpen: boolean[];

  constructor(private readonly instances: readonly { name: string; url: string }[]) {
    this.health = instances.map((i) => ({ name: i.name, samples: 0, unreachableS: 0, storeDownS: 0, breakerOpenS: 0, breakerOpenings: 0, breakerPeriods: [] }));
    this.lastBreakerOpen = instances.map(() => false);
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

  /** Every instance's breaker was open at the last sample: no request reaches ZoPay. */
  allBreakersOpen(): boolean {
    return this.lastBreakerOpen.every(Boolean);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sample(url: string, i: number, seconds: number): Promise<void> {
    const h = this.health[i] as InstanceHealth;
    h.samples++;
    let checks: Record<string, unknown> | undefined;
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(900) });
      const body = (await res.json()) as { checks?: Record<string, unknown> };
      checks = body.checks ?? {};
    } catch {
      h.unreachableS += seconds;
      return;
    }
    if (checks['store'] === false) h.storeDownS += seconds;
    const open = checks['upstream'] === false;
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
