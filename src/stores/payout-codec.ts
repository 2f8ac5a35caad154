import { GATEWAYS, PAYOUT_STATUSES, type Payout } from '../zopay/types.js';
import { isJsonObject } from '../zopay/wire-normalize.js';

/**
 * The JSON form of a Payout as stored in Redis and sent over pub/sub. Everything read back from Redis
 * is checked here: a malformed value is dropped, never trusted. Read by hand rather than with zod: every
 * execute, webhook and read goes through it, and zod cost a large share of a webhook's CPU (see
 * src/zopay/wire.ts). test/stores/payout-codec.test.ts checks it against the zod form of the same rules.
 */

const STATUSES: ReadonlySet<string> = new Set(PAYOUT_STATUSES);
const SOURCES: ReadonlySet<string> = new Set(['execute', 'get', 'list', 'webhook']);
const GATEWAY_NAMES: ReadonlySet<string> = new Set(GATEWAYS);

/** The optional string fields, in the order they are written. */
const OPTIONAL_STRINGS = [
  'amount',
  'currency',
  'recipientMsisdn',
  'gatewayReference',
  'correlationId',
  'gatewayFee',
  'platformFee',
  'totalAmount',
  'createdAt',
] as const;

/** The payout's own fields of `v`, or undefined when one is missing or of the wrong kind. */
function readPayout(v: unknown): Payout | undefined {
  if (!isJsonObject(v)) return undefined;
  const { id, status, rawStatus, source, gateway, completedAt, failure, merchantId, batchId } = v;
  if (typeof id !== 'string' || id === '') return undefined;
  if (typeof status !== 'string' || !STATUSES.has(status)) return undefined;
  if (typeof rawStatus !== 'string') return undefined;
  if (typeof source !== 'string' || !SOURCES.has(source)) return undefined;
  const out: Record<string, unknown> = { id, status, rawStatus, source };
  if (gateway !== undefined) {
    if (typeof gateway !== 'string' || !GATEWAY_NAMES.has(gateway)) return undefined;
    out['gateway'] = gateway;
  }
  for (const key of OPTIONAL_STRINGS) {
    const field = v[key];
    if (field === undefined) continue;
    if (typeof field !== 'string') return undefined;
    out[key] = field;
  }
  if (completedAt !== undefined) {
    if (completedAt !== null && typeof completedAt !== 'string') return undefined;
    out['completedAt'] = completedAt;
  }
  if (failure !== undefined) {
    if (failure === null) out['failure'] = null;
    else {
      if (!isJsonObject(failure)) return undefined;
      const { code, message } = failure;
      if (typeof message !== 'string' || (code !== undefined && typeof code !== 'string')) return undefined;
      out['failure'] = code === undefined ? { message } : { code, message };
    }
  }
  if (merchantId !== undefined) {
    if (typeof merchantId !== 'string') return undefined;
    out['merchantId'] = merchantId;
  }
  if (batchId !== undefined) {
    if (typeof batchId !== 'string') return undefined;
    out['batchId'] = batchId;
  }
  return out as unknown as Payout;
}

/** Parses a JSON text into a Payout; undefined when it is not JSON or not a valid payout. */
export function decodePayout(json: string): Payout | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return readPayout(value);
}

/** Validates a payout handed to a store or the bus; throws a TypeError for a programming error. */
export function encodePayout(payout: Payout): string {
  const checked = readPayout(payout);
  if (!checked) throw new TypeError(`Invalid payout (${describeInvalid(payout)})`);
  return JSON.stringify(checked);
}

/** Which of a payout's fields are wrong, for the programming error's message. */
function describeInvalid(p: unknown): string {
  if (!isJsonObject(p)) return '(root)';
  const keys = new Set([...Object.keys(VALID_BASE), ...Object.keys(p)]);
  const bad = [...keys].filter((k) => readPayout({ ...VALID_BASE, [k]: p[k] }) === undefined);
  return bad.length > 0 ? bad.join(', ') : '(root)';
}

const VALID_BASE: Record<string, unknown> = { id: 'x', status: PAYOUT_STATUSES[0], rawStatus: 'x', source: 'execute' };
