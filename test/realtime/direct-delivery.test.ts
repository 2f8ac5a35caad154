import { afterEach, describe, expect, it } from 'vitest';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type DocumentNode, type ExecutionResult } from 'graphql';
import type { PayoutHub } from '../../src/realtime/hub.js';
import { acceptsDirectDelivery, createSharedSubscribe, type DirectResults } from '../../src/realtime/shared-execution.js';
import { payoutStatusStream, type PayoutStatusStream } from '../../src/realtime/status-stream.js';
import type { Payout } from '../../src/zopay/types.js';
import { quietHub } from '../helpers/hub.js';

/**
 * Direct delivery: the real hub, status stream and shared execution, with the transport played by the
 * test (a consumer that pulls like graphql-ws's loop, and a `write` that records). A ready result must
 * reach `write` in the turn the event is delivered; anything else must keep the usual pull, in order.
 */
const ID = 'po-direct-1';
const payout = (status: Payout['status']): Payout => ({ id: ID, status, rawStatus: status, source: 'webhook' });
const tick = () => new Promise((resolve) => setImmediate(resolve));

const hubs: PayoutHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

function fixture() {
  const control: { gate?: Promise<void> } = {};
  const streams: PayoutStatusStream[] = [];
  const hub = quietHub();
  hubs.push(hub);
  const PayoutType = new GraphQLObjectType<Payout>({
    name: 'Payout',
    fields: {
      status: { type: GraphQLString },
      // A field that reads before it answers (until `gate` opens): its results cannot be written in the event's turn.
      later: { type: GraphQLString, resolve: (p) => (control.gate ?? Promise.resolve()).then(() => `later ${p.status}`) },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        payoutStatus: {
          type: PayoutType,
          subscribe: () => {
            const stream = payoutStatusStream({ hub, payoutId: ID, snapshot: () => Promise.resolve(payout('PENDING')), onMissing: () => new Error('missing') });
            streams.push(stream);
            return stream;
          },
          resolve: (p: Payout) => p,
        },
      },
    }),
  });
  const documents = new Map<string, DocumentNode>();
  const subscribe = createSharedSubscribe({ maskError: (e) => (e instanceof Error ? e : new Error(String(e))) });
  /** Opens a subscription and starts pulling it; `hold` runs after each pulled result (a busy transport). */
  const open = async (query: string, log: string[], hold?: () => Promise<void>) => {
    // One document per text, as with the gateway's parse cache: the same selection shares its result.
    const document = documents.get(query) ?? parse(query);
    documents.set(query, document);
    const results = await subscribe({ schema, document, contextValue: {} });
    if (!acceptsDirectDelivery(results)) throw new Error('the status stream did not offer direct delivery');
    const pulling = (async () => {
      for (;;) {
        let r: IteratorResult<ExecutionResult>;
        try {
          r = await results.next();
        } catch (err) {
          log.push(`error ${(err as Error).message}`);
          return;
        }
        if (r.done) {
          log.push('complete');
          return;
        }
        log.push(`pulled ${show(r.value)}`);
        await hold?.();
      }
    })();
    return { results, pulling };
  };
  return { hub, open, streams, control };
}

function show(result: ExecutionResult): string {
  const data = result.data as { payoutStatus: Record<string, string> } | null | undefined;
  return Object.values(data?.payoutStatus ?? {}).join(' ');
}

/** Writes what it is handed, as a transport would; `written` is the same result objects. */
function recorder(log: string[]) {
  const written: ExecutionResult[] = [];
  const write = (result: ExecutionResult) => {
    written.push(result);
    log.push(`direct ${show(result)}`);
  };
  return { written, write };
}

/** Waits for the snapshot to be pulled (`expected`, the whole log by then), and the consumer to be back in next(). */
async function snapshotSent(log: string[], expected = 'pulled PENDING'): Promise<void> {
  for (let i = 0; i < 50 && log.length === 0; i++) await tick();
  expect(log).toEqual([expected]);
  await tick();
}

describe('direct delivery of subscription results', () => {
  it('writes a ready result in the turn its event arrives, and completes after the final', async () => {
    const { hub, open } = fixture();
    const log: string[] = [];
    const { results, pulling } = await open('subscription { payoutStatus { status } }', log);
    results.deliverDirectly(recorder(log).write);
    await snapshotSent(log);

    hub.deliver(payout('PROCESSING'));
    // Synchronously: no promise hop between the event and the write.
    expect(log).toEqual(['pulled PENDING', 'direct PROCESSING']);
    hub.deliver(payout('PROCESSING')); // not progress: nothing
    hub.deliver(payout('SUCCESS'));
    expect(log).toEqual(['pulled PENDING', 'direct PROCESSING', 'direct SUCCESS']);
    await pulling;
    expect(log).toEqual(['pulled PENDING', 'direct PROCESSING', 'direct SUCCESS', 'complete']);
  });

  it('hands every subscriber of a selection the same result object', async () => {
    const { hub, open } = fixture();
    const logs = [[], [], []] as string[][];
    const recorders = logs.map((log) => recorder(log));
    const subs = await Promise.all(logs.map((log) => open('subscription { payoutStatus { status } }', log)));
    subs.forEach((s, i) => s.results.deliverDirectly((recorders[i] as ReturnType<typeof recorder>).write));
    for (const log of logs) await snapshotSent(log);

    hub.deliver(payout('FAILED'));
    await Promise.all(subs.map((s) => s.pulling));
    for (const log of logs) expect(log).toEqual(['pulled PENDING', 'direct FAILED', 'complete']);
    const [first, ...others] = recorders.map((r) => r.written[0]);
    for (const other of others) expect(other).toBe(first);
  });

  it('keeps an event for next() while the transport is still busy with the one before, in order', async () => {
    const { hub, open } = fixture();
    const log: string[] = [];
    let release: (() => void) | undefined;
    const hold = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const { results, pulling } = await open('subscription { payoutStatus { status } }', log, hold);
    results.deliverDirectly(recorder(log).write);
    for (let i = 0; i < 50 && log.length === 0; i++) await tick();
    expect(log).toEqual(['pulled PENDING']);

    // The consumer has not come back for more: the event must not overtake what it is sending.
    hub.deliver(payout('PROCESSING'));
    expect(log).toEqual(['pulled PENDING']);
    release?.();
    for (let i = 0; i < 50 && log.length === 1; i++) await tick();
    expect(log).toEqual(['pulled PENDING', 'pulled PROCESSING']);

    release?.();
    await tick();
    hub.deliver(payout('SUCCESS'));
    expect(log).toEqual(['pulled PENDING', 'pulled PROCESSING', 'direct SUCCESS']);
    await pulling;
    expect(log.at(-1)).toBe('complete');
  });

  it('writes a result that reads before it answers once it is ready, events in order, then completes', async () => {
    const { hub, open } = fixture();
    const log: string[] = [];
    const { results, pulling } = await open('subscription { payoutStatus { status later } }', log);
    results.deliverDirectly(recorder(log).write);
    await snapshotSent(log, 'pulled PENDING later PENDING');

    hub.deliver(payout('PROCESSING'));
    hub.deliver(payout('SUCCESS'));
    // Not in the event's turn: the answer is still being read.
    expect(log).toEqual(['pulled PENDING later PENDING']);
    await pulling;
    expect(log).toEqual(['pulled PENDING later PENDING', 'direct PROCESSING later PROCESSING', 'direct SUCCESS later SUCCESS', 'complete']);
  });

  /**
   * A subscriber with a selection that reads, past its snapshot, and a final whose answer is being
   * read while `meanwhile` runs; resolves with everything the subscriber got.
   */
  async function finalWhileReading(meanwhile: (f: ReturnType<typeof fixture>, results: DirectResults) => Promise<void> | void): Promise<string[]> {
    const f = fixture();
    const log: string[] = [];
    const { results, pulling } = await f.open('subscription { payoutStatus { status later } }', log);
    results.deliverDirectly(recorder(log).write);
    await snapshotSent(log, 'pulled PENDING later PENDING');
    let answer: () => void = () => undefined;
    f.control.gate = new Promise((resolve) => (answer = resolve));
    f.hub.deliver(payout('SUCCESS'));
    await meanwhile(f, results);
    answer();
    await pulling;
    for (let i = 0; i < 5; i++) await tick();
    return log;
  }

  it('writes nothing for a subscriber that left while its answer was being read', async () => {
    const log = await finalWhileReading(async (_f, results) => {
      await results.return?.();
    });
    expect(log).toEqual(['pulled PENDING later PENDING', 'complete']);
  });

  it('a stream failed (shutdown) while its answer was being read ends with the error and writes nothing', async () => {
    const log = await finalWhileReading((f) => f.streams[0]?.fail(new Error('shutting down')));
    expect(log).toEqual(['pulled PENDING later PENDING', 'error shutting down']);
  });

  it('a stream failed while the transport was still sending an event ends with the error, never a completion', async () => {
    const { hub, open, streams } = fixture();
    const log: string[] = [];
    let release: (() => void) | undefined;
    const hold = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    // No direct writes: every event goes through next().
    const { pulling } = await open('subscription { payoutStatus { status } }', log, hold);
    for (let i = 0; i < 50 && log.length === 0; i++) await tick();
    release?.();
    await tick();
    hub.deliver(payout('PROCESSING'));
    for (let i = 0; i < 50 && log.length === 1; i++) await tick();
    expect(log).toEqual(['pulled PENDING', 'pulled PROCESSING']);

    streams[0]?.fail(new Error('shutting down'));
    release?.();
    await pulling;
    expect(log).toEqual(['pulled PENDING', 'pulled PROCESSING', 'error shutting down']);
  });

  it('hands the event to next() when the write throws', async () => {
    const { hub, open } = fixture();
    const log: string[] = [];
    const { results, pulling } = await open('subscription { payoutStatus { status } }', log);
    results.deliverDirectly(() => {
      throw new Error('socket went away');
    });
    await snapshotSent(log);

    hub.deliver(payout('CANCELLED'));
    await pulling;
    expect(log).toEqual(['pulled PENDING', 'pulled CANCELLED', 'complete']);
  });

  it('writes nothing once the subscriber left', async () => {
    const { hub, open } = fixture();
    const log: string[] = [];
    const { results, pulling } = await open('subscription { payoutStatus { status } }', log);
    results.deliverDirectly(recorder(log).write);
    await snapshotSent(log);

    await results.return?.();
    hub.deliver(payout('SUCCESS'));
    await pulling;
    expect(log).toEqual(['pulled PENDING', 'complete']);
    expect(hub.watchedCount()).toBe(0);
  });
});
