/**
 * A subscriber watching one payout's `payoutStatus` over graphql-ws or SSE. When its stream breaks
 * (instance killed, Redis down at subscribe time) it subscribes again, on the other instance, until it
 * has the final status or the harness's cut-off. Every event of every attempt is recorded in order.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { PAYOUT_STATUS } from './gql.js';
import type { StatusEvent, SubAttempt, SubscriberRecord } from './model.js';
import type { Rng } from './rng.js';
import type { Counter } from './model.js';

export interface SubscriberContext {
  instances: readonly { url: string }[];
  masked: { at: number; where: string }[];
  /** Aborted at the subscription cut-off (after every payout is final at ZoPay, plus a grace period). */
  cutoff: AbortSignal;
  retries: Counter;
}

interface RawEvent {
  id?: unknown;
  status?: unknown;
  isFinal?: unknown;
}

interface AttemptResult {
  end: SubAttempt['end'];
  errors: string[];
}

const FINAL = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

export async function runSubscriber(ctx: SubscriberContext, rec: SubscriberRecord, token: string, rng: Rng): Promise<void> {
  let instance = rec.plan.instance;
  let transport = rec.plan.transport;
  let failures = 0;
  while (!ctx.cutoff.aborted) {
    const attemptNo = rec.attempts.length;
    const attempt: SubAttempt = { instance, transport, startedAt: Date.now(), end: 'aborted', errors: [], events: 0 };
    rec.attempts.push(attempt);
    const onEvent = (raw: RawEvent) => {
      const ev: StatusEvent = {
        id: typeof raw.id === 'string' ? raw.id : '?',
        status: typeof raw.status === 'string' ? raw.status : '?',
        isFinal: raw.isFinal === true,
        at: Date.now(),
        attempt: attemptNo,
      };
      rec.events.push(ev);
      attempt.events++;
    };
    const url = (ctx.instances[instance] as { url: string }).url;
    const result =
      transport === 'ws' ? await wsAttempt(url, token, rec.payoutId, onEvent, ctx.cutoff) : await sseAttempt(url, token, rec.payoutId, onEvent, ctx.cutoff);
    attempt.end = result.end;
    attempt.errors = result.errors;
    if (result.errors.includes('INTERNAL_SERVER_ERROR')) {
      ctx.masked.push({ at: attempt.startedAt, where: `payoutStatus(${rec.payoutId}) ${transport} on gw${instance} by ${rec.sub}` });
    }
    if (rec.events.some((e) => FINAL.has(e.status))) {
      rec.done = 'final';
      rec.finishedAt = Date.now();
      return;
    }
    if (result.end === 'aborted') break;
    // No final yet: the stream broke or ended early. Subscribe again, on the other instance.
    failures++;
    ctx.retries.add(`subscribe:${result.end === 'complete' ? 'completed-without-final' : 'stream-error'}`);
    instance = 1 - instance;
    if (rng.chance(0.3)) transport = transport === 'ws' ? 'sse' : 'ws';
    const wait = Math.min(3_000, 150 * 2 ** Math.min(failures, 5)) * (0.5 + rng.next() / 2);
    await abortableSleep(wait, ctx.cutoff);
  }
  rec.done = rec.events.some((e) => FINAL.has(e.status)) ? 'final' : 'cutoff';
  rec.finishedAt = Date.now();
}

function wsAttempt(url: string, token: string, payoutId: string, onEvent: (e: RawEvent) => void, cutoff: AbortSignal): Promise<AttemptResult> {
  const errors: string[] = [];
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    lazyCloseTimeout: 0,
    keepAlive: 10_000,
  });
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (end: SubAttempt['end']) => {
      if (settled) return;
      settled = true;
      cutoff.removeEventListener('abort', onAbort);
      resolve({ end, errors });
      void client.dispose();
    };
    const unsubscribe = client.subscribe<{ payoutStatus?: RawEvent }>(
      { query: PAYOUT_STATUS, variables: { id: payoutId } },
      {
        next: (r) => {
          if (r.errors) for (const e of r.errors) errors.push(codeOf(e));
          if (r.data?.payoutStatus) onEvent(r.data.payoutStatus);
        },
        error: (e: unknown) => {
          errors.push(describeWsError(e));
          finish('error');
        },
        complete: () => finish(errors.length > 0 ? 'error' : 'complete'),
      },
    );
    const onAbort = () => {
      unsubscribe();
      finish('aborted');
    };
    if (cutoff.aborted) onAbort();
    else cutoff.addEventListener('abort', onAbort);
  });
}

async function sseAttempt(url: string, token: string, payoutId: string, onEvent: (e: RawEvent) => void, cutoff: AbortSignal): Promise<AttemptResult> {
  const errors: string[] = [];
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  if (cutoff.aborted) return { end: 'aborted', errors };
  cutoff.addEventListener('abort', onAbort);
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PAYOUT_STATUS, variables: { id: payoutId } }),
      signal: abort.signal,
    });
    if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      errors.push(`HTTP ${res.status} ${(await res.text().catch(() => '')).slice(0, 160)}`);
      return { end: 'error', errors };
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let sep;
      while ((sep = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (event === 'complete') return { end: errors.length > 0 ? 'error' : 'complete', errors };
        if (data) {
          const parsed = JSON.parse(data) as { data?: { payoutStatus?: RawEvent } | null; errors?: unknown[] };
          if (parsed.errors) for (const e of parsed.errors) errors.push(codeOf(e));
          if (parsed.data?.payoutStatus) onEvent(parsed.data.payoutStatus);
        }
      }
    }
    errors.push('stream ended without complete');
    return { end: 'error', errors };
  } catch (err) {
    if (cutoff.aborted) return { end: 'aborted', errors };
    errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    return { end: 'error', errors };
  } finally {
    cutoff.removeEventListener('abort', onAbort);
    abort.abort();
  }
}

function codeOf(e: unknown): string {
  const ext = (e as { extensions?: { code?: unknown } } | null)?.extensions;
  return typeof ext?.code === 'string' ? ext.code : `error: ${String((e as { message?: unknown } | null)?.message ?? e)}`;
}

function describeWsError(e: unknown): string {
  if (Array.isArray(e)) return e.map(codeOf).join(',');
  const close = e as { code?: unknown; reason?: unknown; type?: unknown } | null;
  if (close && typeof close.code === 'number') return `ws close ${close.code}${close.reason ? ` ${String(close.reason)}` : ''}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (close && close.type === 'error') return 'ws error event';
  return String(e);
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
