import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { renderGraphiQL } from 'graphql-yoga';

/**
 * GraphiQL's scripts and styles served by the gateway itself instead of a CDN: the page works on a
 * machine with no Internet access, and the browser loads no third-party code next to a payout token.
 */
export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

const ASSETS: ReadonlyMap<string, string> = new Map([
  ['graphiql.css', 'text/css; charset=utf-8'],
  ['yoga-graphiql.umd.js', 'application/javascript; charset=utf-8'],
  ['monacoeditorwork/editor.worker.bundle.js', 'application/javascript; charset=utf-8'],
  ['monacoeditorwork/json.worker.bundle.js', 'application/javascript; charset=utf-8'],
  ['monacoeditorwork/graphql.worker..bundle.js', 'application/javascript; charset=utf-8'],
]);

const distDir = join(dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql/package.json')), 'dist');
const cache = new Map<string, Buffer>();

export async function serveGraphiQLAsset(path: string, res: ServerResponse): Promise<boolean> {
  const name = path.slice(GRAPHIQL_ASSET_PREFIX.length);
  // A Map, not an object: `constructor` or `__proto__` are not file names (they were a 500 here).
  const type = ASSETS.get(name);
  if (type === undefined) return false;
  let body = cache.get(name);
  if (!body) {
    body = await readFile(join(distDir, name));
    cache.set(name, body);
  }
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'public, max-age=86400' });
  res.end(body);
  return true;
}

/**
 * Yoga's GraphiQL page, pointed at the local assets. This GraphiQL build ignores `defaultQuery` but
 * reads `?query=` from the address, so a first visit without one gets the example document there.
 */
export function renderLocalGraphiQL(opts: Parameters<typeof renderGraphiQL>[0]): string {
  const seed = opts.defaultQuery
    ? `<script>(function(){var p=new URLSearchParams(location.search);if(!p.has('query')){p.set('query',${JSON.stringify(opts.defaultQuery).replace(/</g, '\\u003c')});history.replaceState(null,'',location.pathname+'?'+p.toString());}})();</script>`
    : '';
  return renderGraphiQL(opts)
    .replace(/https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/]+\/dist\//g, GRAPHIQL_ASSET_PREFIX)
    // No request leaves for another host: Yoga's page takes its icon from GitHub (minified, unquoted).
    .replace(/<link rel=["']?icon["']?[^>]*>/, '')
    .replace('Loading __TITLE__...', 'Loading…')
    .replace('<head>', `<head>${seed}`);
}
