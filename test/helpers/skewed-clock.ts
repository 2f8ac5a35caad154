/**
 * Preloaded into a gateway process (`node --import tsx --import ./test/helpers/skewed-clock.ts …`) to run
 * it with a wall clock `TEST_CLOCK_SKEW_MS` ahead (or behind, negative) of the machine's: `Date.now()` and
 * `new Date()` move, the monotonic clock (`performance.now()`, timers) does not, as when a host's clock is
 * wrong (attack case T50).
 */
const skew = Number(process.env['TEST_CLOCK_SKEW_MS'] ?? '0');
if (!Number.isFinite(skew)) throw new Error('TEST_CLOCK_SKEW_MS must be a number of milliseconds');

if (skew !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(realNow() + skew);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }
    static override now(): number {
      return realNow() + skew;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
}
