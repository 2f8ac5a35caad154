/** What every /api/v1 route receives: the parsed request and the sandbox's parts (no globals). */
import type { z } from 'zod';
import type { Ledger } from '../ledger.js';
import type { Lifecycle } from '../lifecycle.js';
import type { ResolvedOptions } from '../options.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** Path parameters, e.g. `{ id }` for GET /api/v1/disbursements/:id. */
  params: Record<string, string>;
}

export interface ApiContext {
  opts: ResolvedOptions;
  ledger: Ledger;
  lifecycle: Lifecycle;
}

/** zod issues as `{ "recipient.msisdn": ["…"] }`, the `errors` field of a 400 (§9 #13). */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || '(body)';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
