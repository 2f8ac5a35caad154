import { PAYOUT_STATUSES, isFinalStatus, statusRank } from '../../zopay/types.js';
import { LuaScript } from './lua.js';

/**
 * The Lua side of the stores. The rank and final tables are generated from zopay/types.ts, and
 * APPLY_FUNCTION mirrors payout-merge.ts line by line: change both together (the contract tests run
 * the same cases against the in-memory and the Redis store).
 */

const RANKS = PAYOUT_STATUSES.map((s) => `${s}=${statusRank(s)}`).join(',');
const FINALS = PAYOUT_STATUSES.filter(isFinalStatus)
  .map((s) => `${s}=true`)
  .join(',');

/** apply_payout(key, json, ttl) -> outcome, stored json. Writes only for created/advanced/merged. */
const APPLY_FUNCTION = `
local RANK = {${RANKS}}
local FINAL = {${FINALS}}
local function apply_payout(key, incoming_json, ttl)
  local incoming = cjson.decode(incoming_json)
  local is = incoming['status']
  if RANK[is] == nil then error('invalid payout status') end
  local raw = redis.call('GET', key)
  local current = nil
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' and RANK[decoded['status']] ~= nil then current = decoded end
  end
  if current == nil then
    redis.call('SET', key, incoming_json, 'EX', ttl)
    return 'created', incoming_json
  end
  local cs = current['status']
  if is ~= cs then
    if FINAL[cs] then
      if FINAL[is] then return 'conflict', raw end
      return 'stale', raw
    end
    if RANK[is] < RANK[cs] then return 'stale', raw end
  end
  local advancing = is ~= cs
  local changed = false
  for k, v in pairs(incoming) do
    local known = current[k]
    local take
    if advancing then
      take = (v ~= cjson.null) or (known == nil)
    else
      take = (known == nil) or (known == cjson.null and v ~= cjson.null)
    end
    if take and known ~= v then
      current[k] = v
      changed = true
    end
  end
  if not changed and not advancing then return 'unchanged', raw end
  local merged = cjson.encode(current)
  redis.call('SET', key, merged, 'EX', ttl)
  if advancing then return 'advanced', merged end
  return 'unchanged', merged
end
`;

/** KEYS: status. ARGV: payout json, ttl s. Monotonic apply -> {outcome, stored json}. */
export const APPLY_PAYOUT = new LuaScript(
  'apply_payout',
  `${APPLY_FUNCTION}
local outcome, stored = apply_payout(KEYS[1], ARGV[1], ARGV[2])
return {outcome, stored}
`,
);

/**
 * KEYS: delivery, status. ARGV: payout json, status ttl s, dedupe ttl s. A known delivery id returns
 * {'duplicate'} and writes nothing; otherwise apply and remember the id in the same step.
 */
export const RECORD_DELIVERY = new LuaScript(
  'record_delivery',
  `${APPLY_FUNCTION}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end
local outcome, stored = apply_payout(KEYS[2], ARGV[1], ARGV[2])
redis.call('SET', KEYS[1], outcome, 'EX', ARGV[3])
return {outcome, stored}
`,
);

/**
 * KEYS: owner, owner index. ARGV: sub, ttl s, now ms, payout id. First writer wins -> the owner on
 * record; the winner also indexes the payout under its sub (entries older than the TTL are pruned).
 */
export const SET_OWNER = new LuaScript(
  'set_owner',
  `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local now, ttl_ms = tonumber(ARGV[3]), tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now - ttl_ms))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return ARGV[1]
`,
);

/** KEYS: owner index. ARGV: now ms, ttl s, offset, limit. Live entries newest first -> {total, id...}. */
export const LIST_OWNED = new LuaScript(
  'list_owned',
  `
local cutoff = '(' .. string.format('%.0f', tonumber(ARGV[1]) - tonumber(ARGV[2]) * 1000)
local total = redis.call('ZCOUNT', KEYS[1], cutoff, '+inf')
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', cutoff, 'LIMIT', ARGV[3], ARGV[4])
table.insert(ids, 1, total)
return ids
`,
);

/**
 * KEYS: record hash. ARGV: fingerprint, lock owner, now ms, lock ttl ms, record ttl s, upstream key
 * ('' for none). -> {'acquired', resumed '0'|'1', upstream key} | {'mismatch'} | {'completed', result}
 * | {'in_progress', retry after ms}.
 */
export const IDEMPOTENCY_BEGIN = new LuaScript(
  'idempotency_begin',
  `
local key = KEYS[1]
local fp, owner, now, lock_ttl, ttl, ukey = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
local lock_until = string.format('%.0f', now + lock_ttl)
if redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, 'fp', fp, 'state', 'locked', 'owner', owner, 'until', lock_until, 'unc', '0')
  if ukey ~= '' then redis.call('HSET', key, 'ukey', ukey) end
  redis.call('EXPIRE', key, ttl)
  return {'acquired', '0', ukey}
end
local rec = redis.call('HMGET', key, 'fp', 'state', 'until', 'result', 'ukey')
if rec[1] ~= fp then return {'mismatch'} end
if rec[2] == 'completed' then return {'completed', rec[4] or ''} end
local held_until = tonumber(rec[3] or '0') or 0
if rec[2] == 'locked' and held_until > now then
  return {'in_progress', string.format('%.0f', held_until - now)}
end
local stored_ukey = rec[5]
if not stored_ukey then
  stored_ukey = ukey
  if ukey ~= '' then redis.call('HSET', key, 'ukey', ukey) end
end
redis.call('HSET', key, 'state', 'locked', 'owner', owner, 'until', lock_until, 'unc', '1')
redis.call('EXPIRE', key, ttl)
return {'acquired', '1', stored_ukey}
`,
);

const OWNED = `
local rec = redis.call('HMGET', KEYS[1], 'state', 'owner', 'unc')
if rec[1] ~= 'locked' or rec[2] ~= ARGV[1] then return 0 end
`;

/** KEYS: record. ARGV: lock owner, result, record ttl s. Lock owner only: store the result -> 1|0. */
export const IDEMPOTENCY_COMPLETE = new LuaScript(
  'idempotency_complete',
  `${OWNED}
redis.call('HDEL', KEYS[1], 'owner', 'until')
redis.call('HSET', KEYS[1], 'state', 'completed', 'result', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`,
);

/** KEYS: record. ARGV: lock owner. Lock owner only: drop the lock, keep the record as unknown -> 1|0. */
export const IDEMPOTENCY_MARK_UNKNOWN = new LuaScript(
  'idempotency_mark_unknown',
  `${OWNED}
redis.call('HDEL', KEYS[1], 'owner', 'until')
redis.call('HSET', KEYS[1], 'state', 'unknown', 'unc', '1')
return 1
`,
);

/** KEYS: record. ARGV: lock owner. Lock owner only: delete, or back to unknown if uncertain -> 1|0. */
export const IDEMPOTENCY_RELEASE = new LuaScript(
  'idempotency_release',
  `${OWNED}
if rec[3] == '1' then
  redis.call('HDEL', KEYS[1], 'owner', 'until')
  redis.call('HSET', KEYS[1], 'state', 'unknown')
else
  redis.call('DEL', KEYS[1])
end
return 1
`,
);

/**
 * KEYS: limiter. ARGV: now ms, limit, window ms, cost. GCRA as in rate-limit-math.ts ->
 * {1, remaining} | {0, retry after ms}.
 */
export const RATE_LIMIT = new LuaScript(
  'rate_limit',
  `
local now, limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local eps = 1e-6
local interval = window / limit
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored) or now, now) end
local new_tat = tat + interval * cost
local allow_at = new_tat - window
if allow_at - now > eps then
  return {0, math.max(1, math.ceil(allow_at - now - eps))}
end
redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', string.format('%.0f', math.max(1, math.ceil(new_tat - now))))
return {1, math.max(0, math.floor((now + window - new_tat) / interval + eps))}
`,
);
