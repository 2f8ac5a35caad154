import { describe, expect, it } from 'vitest';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createSharedSubscribe } from '../../src/realtime/shared-execution.js';

interface Event {
  status: string;
}

/** A subscription whose source is driven by the test; `detail` counts its executions. */
function fixture() {
  let executions = 0;
  const sources: { push(e: Event): void; fail(err: Error): void; returned: boolean }[] = [];
  const EventType = new GraphQLObjectType<Event>({
    name: 'Event',
    fields: {
      status: { type: GraphQLString },
      detail: {
        type: GraphQLString,
        resolve: (e) => {
          executions++;
          if (e.status === 'BROKEN') throw new Error('secret internal detail');
          return `detail of ${e.status}`;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        events: {
          type: EventType,
          args: {},
          subscribe: () => {
            const queue: Event[] = [];
            let waiter: ((r: IteratorResult<Event>) => void) | undefined;
            let rejecter: ((err: Error) => void) | undefined;
            const handle = {
              returned: false,
              push(e: Event) {
                if (waiter) waiter({ done: false, value: e });
                else queue.push(e);
                waiter = undefined;
              },
              fail(err: Error) {
                rejecter?.(err);
              },
            };
            sources.push(handle);
            const it: AsyncIterableIterator<Event> = {
              next: () => {
                const e = queue.shift();
                if (e) return Promise.resolve({ done: false, value: e });
                return new Promise((resolve, reject) => {
                  waiter = resolve;
                  rejecter = reject;
                });
              },
              return: () => {
                handle.returned = true;
                return Promise.resolve({ done: true, value: undefined });
              },
              [Symbol.asyncIterator]: () => it,
            };
            return it;
          },
          resolve: (e: Event) => e,
        },
      },
    }),
  });
  const masked: unknown[] = [];
  const subscribe = createSharedSubscribe({
    maskError: (err) => {
      masked.push(err);
      return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    },
  });
  // Like Yoga's parse cache: the same query text gives the same document object.
  const documents = new Map<string, ReturnType<typeof parse>>();
  const open = async (query: string) => {
    let document = documents.get(query);
    if (!document) documents.set(query, (document = parse(query)));
    const it = await subscribe({ schema, document, contextValue: {} });
    if (!(Symbol.asyncIterator in it)) throw new Error('expected a stream');
    return it;
  };
  return { open, sources, masked, executions: () => executions };
}

describe('shared subscription execution', () => {
  it('executes each distinct selection once per event and hands every subscriber the same result', async () => {
    const f = fixture();
    const a = await f.open('subscription { events { status detail } }');
    const b = await f.open('subscription { events { status detail } }');
    const c = await f.open('subscription { events { detail } }');
    const event = { status: 'SUCCESS' };
    for (const s of f.sources) s.push(event);
    const [ra, rb, rc] = await Promise.all([a.next(), b.next(), c.next()]);
    expect(ra.value).toEqual({ data: { events: { status: 'SUCCESS', detail: 'detail of SUCCESS' } } });
    expect(rb.value).toBe(ra.value);
    expect(rc.value).toEqual({ data: { events: { detail: 'detail of SUCCESS' } } });
    expect(f.executions()).toBe(2);
    // The next event (another object) is executed again, once per selection.
    const next = { status: 'SUCCESS' };
    for (const s of f.sources) s.push(next);
    await Promise.all([a.next(), b.next(), c.next()]);
    expect(f.executions()).toBe(4);
  });

  it('masks execution errors once per shared result: no internal message reaches a subscriber', async () => {
    const f = fixture();
    const a = await f.open('subscription { events { detail } }');
    const b = await f.open('subscription { events { detail } }');
    const event = { status: 'BROKEN' };
    for (const s of f.sources) s.push(event);
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    const result = ra.value as ExecutionResult;
    expect(result.errors?.map((e) => e.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(result)).not.toContain('secret');
    expect(rb.value).toBe(result);
    expect(f.masked).toHaveLength(1);
  });

  it('a failing source rejects with the masked error; return() reaches the source at once', async () => {
    const f = fixture();
    const a = await f.open('subscription { events { status } }');
    const b = await f.open('subscription { events { status } }');
    const pending = a.next();
    f.sources[0]?.fail(new Error('redis exploded at 10.0.0.7'));
    await expect(pending).rejects.toThrow('Unexpected error.');
    expect(await b.return?.()).toEqual({ done: true, value: undefined });
    expect(f.sources[1]?.returned).toBe(true);
  });
});
