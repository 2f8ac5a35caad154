import { MemoryEventBus } from '../../src/events/memory-bus.js';
import { createLogger } from '../../src/lib/logger.js';
import { PayoutHub } from '../../src/realtime/hub.js';

/** A hub on an in-memory bus that never reconciles and knows no payout: events come from the test. */
export function quietHub(): PayoutHub {
  return new PayoutHub({
    bus: new MemoryEventBus(),
    log: createLogger({ level: 'silent' }),
    refresh: () => Promise.resolve(undefined),
    known: () => Promise.resolve(undefined),
    reconcileIntervalMs: 3_600_000,
  });
}
