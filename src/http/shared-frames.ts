import type { ExecutionResult, FormattedExecutionResult } from 'graphql';

/**
 * One serialisation per subscription result, however many graphql-ws subscribers receive it.
 *
 * Subscribers with the same selection get the same result object (realtime/shared-execution.ts), but
 * graphql-ws stringifies every `next` message, payload included, once per subscriber. Returned from
 * its `onNext` hook, a marker takes the payload's place: its `toJSON` leaves a placeholder and hands
 * over the result's JSON, made once per result; the socket's `send`, which graphql-ws calls with the
 * message right after stringifying it, puts that JSON where the placeholder is.
 *
 * The payload is the message's last member, so the last placeholder in the message is the marker's,
 * whatever a client chose as its operation id; the result's own text is spliced in, never searched.
 */
const PLACEHOLDER = '\u0000shared-payload';
const QUOTED = JSON.stringify(PLACEHOLDER);

export interface SharedFrames {
  /** For graphql-ws's `onNext`: the payload to put in the message in place of `result`. */
  payload(result: ExecutionResult): FormattedExecutionResult;
  /** For the socket's `send`, on every outgoing message: the message with the shared JSON in place. */
  frame(message: string): string;
  /**
   * For results written without graphql-ws (realtime/shared-execution.ts, direct delivery): operation
   * `id`'s `next` messages, byte for byte as graphql-ws builds them, with the shared JSON.
   */
  nextFor(id: string): (result: ExecutionResult) => string;
}

interface Shared {
  json: string;
  marker?: FormattedExecutionResult;
}

export function createSharedFrames(): SharedFrames {
  const cache = new WeakMap<ExecutionResult, Shared>();
  let pending: string | undefined;
  const sharedOf = (result: ExecutionResult): Shared => {
    let shared = cache.get(result);
    if (!shared) {
      shared = { json: JSON.stringify(formatted(result)) };
      cache.set(result, shared);
    }
    return shared;
  };
  return {
    payload(result) {
      const shared = sharedOf(result);
      if (!shared.marker) {
        const { json } = shared;
        const toJSON = (): string => {
          pending = json;
          return PLACEHOLDER;
        };
        // Only JSON.stringify ever looks at the marker (graphql-ws checks that the payload is an object).
        shared.marker = { toJSON } as unknown as FormattedExecutionResult;
      }
      return shared.marker;
    },
    frame(message) {
      const json = pending;
      if (json === undefined) return message;
      pending = undefined;
      const at = message.lastIndexOf(QUOTED);
      return at < 0 ? message : message.slice(0, at) + json + message.slice(at + QUOTED.length);
    },
    nextFor(id) {
      // graphql-ws's member order: id, type, payload.
      const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      return (result) => `${head}${sharedOf(result).json}}`;
    },
  };
}

/** The payload exactly as graphql-ws builds it: the result without `errors`, then the errors if any. */
function formatted(result: ExecutionResult): FormattedExecutionResult {
  const { errors, ...rest } = result;
  return errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest;
}
