import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { readSseFrames } from './sse.js';

export const PAYOUT_STATUS = `subscription S($id: ID!) { payoutStatus(payoutId: $id) { id status isFinal completedAt } }`;

export interface StatusEvent {
  id: string;
  status: string;
  isFinal: boolean;
}

export interface Subscription {
  events: StatusEvent[];
  errors: unknown[];
  /** Resolves when the server completes the subscription (or it errors). */
  done: Promise<'complete' | 'error'>;
  close(): Promise<void>;
}

/** A graphql-ws client over a real WebSocket. */
export function wsClient(url: string, token: string | undefined, extra: { retryAttempts?: number } = {}): Client {
  return createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: extra.retryAttempts ?? 0,
    lazy: true,
  });
}

export function wsSubscribe(client: Client, payoutId: string, query = PAYOUT_STATUS): Subscription {
  const events: StatusEvent[] = [];
  const errors: unknown[] = [];
  let dispose: () => void = () => undefined;
  const done = new Promise<'complete' | 'error'>((resolve) => {
    dispose = client.subscribe<{ payoutStatus: StatusEvent }>(
      { query, variables: { id: payoutId } },
      {
        next: (r) => {
          if (r.errors) errors.push(...r.errors);
          if (r.data?.payoutStatus) events.push(r.data.payoutStatus);
        },
        error: (e) => {
          errors.push(e);
          resolve('error');
        },
        complete: () => resolve('complete'),
      },
    );
  });
  return { events, errors, done, close: async () => dispose() };
}

/** Server-Sent Events through Yoga (Accept: text/event-stream) with a bearer token. */
export function sseSubscribe(url: string, token: string, payoutId: string, query = PAYOUT_STATUS): Subscription {
  const events: StatusEvent[] = [];
  const errors: unknown[] = [];
  const abort = new AbortController();
  const done = (async (): Promise<'complete' | 'error'> => {
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { id: payoutId } }),
        signal: abort.signal,
      });
      if (!res.body) return 'error';
      return await readSseFrames(res.body, (payload) => {
        const parsed = payload as { data?: { payoutStatus?: StatusEvent }; errors?: unknown[] };
        if (parsed.errors) errors.push(...parsed.errors);
        if (parsed.data?.payoutStatus) events.push(parsed.data.payoutStatus);
      });
    } catch (err) {
      if (!abort.signal.aborted) errors.push(err);
      return 'error';
    }
  })();
  return { events, errors, done, close: async () => abort.abort() };
}

/** Waits until `predicate` holds, polling. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
