import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import type { DirectPush } from './status-stream.js';

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
export type SubscriptionEventHook = (shared: boolean, direct: boolean) => void;

export interface SharedSubscribeOptions {
  /** Per subscriber per event: whether its result was shared with an earlier subscriber (metrics). */
  onEvent?: SubscriptionEventHook;
  /**
   * The error masking every client answer goes through. Applied here, once per shared result, so the
   * subscription needs no per-subscriber masking layer.
   */
  maskError: (error: unknown) => Error;
}

type Step = IteratorResult<ExecutionResult>;
/** One selection's result for one event; `handedOut` once a subscriber received it (metrics: executed, then shared). */
interface Shared {
  step: Step | Promise<Step>;
  handedOut: boolean;
}
const DONE: Step = { done: true, value: undefined };

export function createSharedSubscribe(opts: SharedSubscribeOptions): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  /** Event object → selection key → its (masked) result, ready to hand out. */
  const perEvent = new WeakMap<object, Map<string, Shared>>();

  const selectionKey = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) {
      id = nextDocumentId++;
      documentIds.set(args.document, id);
    }
    return `${id}\0${args.operationName ?? ''}\0${JSON.stringify(args.variableValues ?? null)}`;
  };

  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors?.length ? { ...result, errors: result.errors.map((e) => opts.maskError(e) as GraphQLError) } : result;
  const stepOf = (result: Result): Step | Promise<Step> =>
    result instanceof Promise ? result.then((r) => ({ done: false, value: masked(r) })) : { done: false, value: masked(result) };

  return async (args) => {
    let source: Awaited<ReturnType<typeof createSourceEventStream>>;
    try {
      source = await createSourceEventStream(args);
    } catch (err) {
      return { errors: [opts.maskError(err) as GraphQLError] };
    }
    if (!isAsyncIterable(source)) return masked(source);
    const key = selectionKey(args);
    /** The event's result for this selection: made by the first subscriber that asks, then reused. */
    const resultFor = (event: object): Shared => {
      let results = perEvent.get(event);
      if (!results) {
        results = new Map();
        perEvent.set(event, results);
      }
      let shared = results.get(key);
      if (!shared) {
        shared = { step: stepOf(execute({ ...args, rootValue: event })), handedOut: false };
        results.set(key, shared);
      }
      return shared;
    };
    const handOut = (shared: Shared, direct: boolean): void => {
      opts.onEvent?.(shared.handedOut, direct);
      shared.handedOut = true;
    };
    const stepFor = (event: unknown): Step | Promise<Step> => {
      if (typeof event !== 'object' || event === null) return stepOf(execute({ ...args, rootValue: event }));
      const shared = resultFor(event);
      handOut(shared, false);
      return shared.step;
    };
    // A ready result goes to the transport in the event's own turn; one still executing (a field that
    // reads upstream) when it is ready, through the stream, which writes it only if the subscriber is
    // still there. Anything odd goes the usual way, through `next()`.
    const pushFor =
      (write: (result: ExecutionResult) => void) =>
      (event: unknown): ReturnType<Push> => {
        if (typeof event !== 'object' || event === null) return false;
        const shared = resultFor(event);
        const { step } = shared;
        if (step instanceof Promise) return step.then((ready) => (ready.done ? undefined : () => writeDirect(write, shared, ready.value)));
        if (step.done) return false;
        writeDirect(write, shared, step.value);
        return true;
      };
    const writeDirect = (write: (result: ExecutionResult) => void, shared: Shared, result: ExecutionResult): void => {
      // Counted first: nothing after the write may throw, or the event would be sent twice.
      handOut(shared, true);
      write(result);
    };
    return mapEvents(source[Symbol.asyncIterator](), stepFor, pushFor, opts.maskError);
  };
}

/**
 * A source that can hand events to a push function instead of through `next()` (realtime/status-stream.ts):
 * in the listener's turn, or once the event's answer is ready; its `next()` then only ends the stream.
 */
interface PushSource extends AsyncIterator<unknown> {
  pushEvents(push: Push): void;
}

type Push = DirectPush<unknown>;

/**
 * The subscription's results pulled by the transport, with an opt-in for transports that can write
 * results themselves: each result then reaches `write` in the event's turn (or once its shared
 * execution answers, when a field reads upstream), and `next()` only settles when the stream ends (or
 * fails), or for an event that could not be written.
 */
export interface DirectResults extends AsyncIterableIterator<ExecutionResult> {
  deliverDirectly(write: (result: ExecutionResult) => void): void;
}

export function acceptsDirectDelivery(value: unknown): value is DirectResults {
  return typeof value === 'object' && value !== null && typeof (value as Partial<DirectResults>).deliverDirectly === 'function';
}

function isPushSource(source: AsyncIterator<unknown>): source is PushSource {
  return typeof (source as Partial<PushSource>).pushEvents === 'function';
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The source stream mapped to results, with as few promise hops as possible (this runs once per
 * subscriber per event). `return()` reaches the source at once (the client left); a source failure
 * reaches the client as a rejection with a masked error.
 */
function mapEvents(
  source: AsyncIterator<unknown>,
  stepFor: (event: unknown) => Step | Promise<Step>,
  pushFor: (write: (result: ExecutionResult) => void) => Push,
  maskError: (error: unknown) => Error,
): AsyncIterableIterator<ExecutionResult> | DirectResults {
  const onPulled = (pulled: IteratorResult<unknown>): Step | Promise<Step> => (pulled.done ? DONE : stepFor(pulled.value));
  const onFailed = (err: unknown): never => {
    throw maskError(err);
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    next: () => source.next().then(onPulled, onFailed),
    return: async () => {
      await source.return?.();
      return DONE;
    },
    throw: async (err: unknown) => {
      await source.return?.();
      throw maskError(err);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  if (!isPushSource(source)) return iterator;
  const direct: DirectResults = Object.assign(iterator, {
    deliverDirectly: (write: (result: ExecutionResult) => void) => source.pushEvents(pushFor(write)),
  });
  return direct;
}
