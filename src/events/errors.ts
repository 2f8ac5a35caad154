/** The event bus cannot reach Redis (or has been closed). Nothing was published or subscribed. */
export class EventBusUnavailableError extends Error {
  readonly code = 'EVENT_BUS_UNAVAILABLE';
  constructor(operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super(`Event bus unavailable during ${operation}${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'EventBusUnavailableError';
  }
}
