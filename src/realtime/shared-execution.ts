import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Subscription execution shared across subscribers. graphql-js executes the selection set once per
 * event per subscriber; here each distinct selection (same document, operation and variables) is
 * executed once per event, and every subscriber with that selection receives the same result object.
 * With 5,000 subscribers on one payout, an event costs one execution (and at most one loader read),
 * not 5,000.
 *
 * Sound because an event's result depends only on the event and the selection: the hub hands the same
 * event object to every local listener, nothing under `Payout` depends on who asks, and every
 * subscriber was authorized for the payout before it was subscribed. The execution runs with the
 * context of the first subscriber to pull the event (its fresh loaders read what fields the event
 * lacks).
 */
export type SubscriptionEventHook = (shared: boolean) => void;

export function createSharedSubscribe(onEvent?: SubscriptionEventHook): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  /** Event object → selection key → its result. Entries go when the event object is collected. */
  const perEvent = new WeakMap<object, Map<string, Result>>();

  const selectionKey = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) {
      id = nextDocumentId++;
      documentIds.set(args.document, id);
    }
    return `${id}\0${args.operationName ?? ''}\0${JSON.stringify(args.variableValues ?? null)}`;
  };

  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const key = selectionKey(args);
    const resultFor = (event: unknown): Result => {
      if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
      let results = perEvent.get(event);
      if (!results) {
        results = new Map();
        perEvent.set(event, results);
      }
      let result = results.get(key);
      onEvent?.(result !== undefined);
      if (!result) {
        result = execute({ ...args, rootValue: event });
        results.set(key, result);
      }
      return result;
    };
    return mapEvents(source[Symbol.asyncIterator](), resultFor);
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The source stream mapped to results. `return()` reaches the source at once (the client left), and a
 * source failure reaches the client as a rejection, exactly like graphql-js's own mapping.
 */
function mapEvents(source: AsyncIterator<unknown>, map: (event: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  const close = async () => {
    await source.return?.();
  };
  const step = async (pulled: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (pulled.done) return { done: true, value: undefined };
    try {
      return { done: false, value: await map(pulled.value) };
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    next: async () => step(await source.next()),
    return: async () => {
      await close();
      return { done: true, value: undefined };
    },
    throw: async (err: unknown) => {
      await close();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
