/** The /api/v1 route table (§3.11, the disbursement subset). */
import type { Reply } from '../reply.js';
import type { RouteName } from '../types.js';
import type { ApiContext, ApiRequest } from './context.js';
import { executeRoute } from './execute.js';
import { getRoute } from './get.js';
import { listRoute } from './list.js';
import { quoteRoute } from './quote.js';

export type RouteHandler = (ctx: ApiContext, req: ApiRequest) => Reply;

export interface RouteMatch {
  name: RouteName;
  handler: RouteHandler;
  params: Record<string, string>;
}

const STATIC: ReadonlyArray<{ method: string; path: string; name: RouteName; handler: RouteHandler }> = [
  { method: 'POST', path: '/api/v1/disbursements/quote', name: 'quote', handler: quoteRoute },
  // §9 #2: the generic quote path behaves identically for DISBURSEMENT.
  { method: 'POST', path: '/api/v1/wallets/quote', name: 'quote', handler: quoteRoute },
  { method: 'POST', path: '/api/v1/disbursements/execute', name: 'execute', handler: executeRoute },
  { method: 'GET', path: '/api/v1/disbursements', name: 'list', handler: listRoute },
];

const PAYOUT_BY_ID = /^\/api\/v1\/disbursements\/([^/]+)$/;

export function matchRoute(method: string, path: string): RouteMatch | null {
  const hit = STATIC.find((r) => r.method === method && r.path === path);
  if (hit) return { name: hit.name, handler: hit.handler, params: {} };
  const m = method === 'GET' ? PAYOUT_BY_ID.exec(path) : null;
  if (m?.[1] !== undefined) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = m[1];
    }
    return { name: 'get', handler: getRoute, params: { id } };
  }
  return null;
}
