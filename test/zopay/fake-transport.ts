import type { HttpTransport, TransportRequest, TransportResponse } from '../../src/zopay/transport.js';

/** One scripted answer: a response, an error to throw, or a function of the request. */
export type Step = TransportResponse | Error | ((req: TransportRequest) => TransportResponse | Promise<TransportResponse>);

export interface ScriptedTransport extends HttpTransport {
  readonly requests: TransportRequest[];
}

/** A transport that answers from a script, one step per request; it fails the test when the script runs out. */
export function scriptedTransport(steps: Step[], opts: { onRequest?: () => void } = {}): ScriptedTransport {
  const requests: TransportRequest[] = [];
  const queue = [...steps];
  return {
    requests,
    async request(req) {
      requests.push(req);
      opts.onRequest?.();
      const step = queue.shift();
      if (step === undefined) throw new Error(`scripted transport: unexpected request #${requests.length}`);
      if (step instanceof Error) throw step;
      return typeof step === 'function' ? step(req) : step;
    },
  };
}

export const reply = (status: number, body: unknown, headers: Record<string, string> = {}): TransportResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** A clock that only moves when told to, and a sleep that moves it. */
export function fakeTime(start = Date.parse('2026-01-18T23:30:00.000Z')) {
  const clock = { t: start, now: () => clock.t };
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    clock.t += ms;
  };
  return { clock, sleeps, sleep };
}
