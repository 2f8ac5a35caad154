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
    if not advancing and k == 'failure' and type(known) == 'table' and known['code'] == nil and type(v) == 'table' and type(v['code']) == 'string' then
      current[k] = v
      changed = true
      take = false
    elseif advancing then
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
 * KEYS: delivery, status. ARGV: payout json, status ttl s, dedupe ttl s, channel ('' for none). A known
 * delivery id returns {'duplicate'} and writes nothing; otherwise apply and remember the id in the same
 * step and, when the payout advanced and a channel is given, publish the stored payout on it ->
 * {outcome, stored json, published 1|0, publish error ('' unless the PUBLISH itself failed; the record
 * stands either way)}.
 */
export const RECORD_DELIVERY = new LuaScript(
  'record_delivery',
  `${APPLY_FUNCTION}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end
local outcome, stored = apply_payout(KEYS[2], ARGV[1], ARGV[2])
redis.call('SET', KEYS[1], outcome, 'EX', ARGV[3])
local published, publish_error = 0, ''
if outcome == 'advanced' and ARGV[4] ~= '' then
  -- pcall: the writes above stay whatever happens (a script is not rolled back), so a failed PUBLISH
  -- must not fail the script; it reports published 0 and why, and the caller publishes through the bus.
  local sent = redis.pcall('PUBLISH', ARGV[4], stored)
  if type(sent) == 'number' then
    published = 1
  elseif type(sent) == 'table' and sent.err then
    publish_error = sent.err
  end
end
return {outcome, stored, published, publish_error}
`,
);

/** set_owner(key, index key, sub, ttl s, now ms, payout id) -> the owner on record. First writer wins. */
const SET_OWNER_FUNCTION = `
local function set_owner(key, index_key, sub, ttl, now_ms, payout_id)
  local current = redis.call('GET', key)
  if current then return current end
  redis.call('SET', key, sub, 'EX', ttl)
  local now, ttl_ms = tonumber(now_ms), tonumber(ttl) * 1000
  redis.call('ZREMRANGEBYSCORE', index_key, '-inf', string.format('%.0f', now - ttl_ms))
  redis.call('ZADD', index_key, now_ms, payout_id)
  redis.call('EXPIRE', index_key, ttl)
  return sub
end
`;

/**
 * KEYS: owner, owner index. ARGV: sub, ttl s, now ms, payout id. First writer wins -> the owner on
 * record; the winner also indexes the payout under its sub (entries older than the TTL are pruned).
 */
export const SET_OWNER = new LuaScript(
  'set_owner',
  `${SET_OWNER_FUNCTION}
return set_owner(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
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
 * idempotency_begin(key, fingerprint, lock owner, now ms, lock ttl ms, record ttl s, upstream key or '')
 * -> {'acquired', resumed '0'|'1', upstream key} | {'mismatch'} | {'completed', result}
 * | {'in_progress', retry after ms}.
 */
const IDEMPOTENCY_BEGIN_FUNCTION = `
local function idempotency_begin(key, fp, owner, now, lock_ttl, ttl, ukey)
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
end
`;

/** KEYS: record hash. ARGV: fingerprint, lock owner, now ms, lock ttl ms, record ttl s, upstream key ('' for none). */
export const IDEMPOTENCY_BEGIN = new LuaScript(
  'idempotency_begin',
  `${IDEMPOTENCY_BEGIN_FUNCTION}
return idempotency_begin(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6])
`,
);

const OWNED = `
local rec = redis.call('HMGET', KEYS[1], 'state', 'owner', 'unc')
if rec[1] ~= 'locked' or rec[2] ~= ARGV[1] then return 0 end
`;

/** idempotency_complete(key, lock owner, result, record ttl s) -> 1, or 0 when the lock is not held. */
const IDEMPOTENCY_COMPLETE_FUNCTION = `
local function idempotency_complete(key, lock_owner, result, ttl)
  local rec = redis.call('HMGET', key, 'state', 'owner')
  if rec[1] ~= 'locked' or rec[2] ~= lock_owner then return 0 end
  redis.call('HDEL', key, 'owner', 'until')
  redis.call('HSET', key, 'state', 'completed', 'result', result)
  redis.call('EXPIRE', key, ttl)
  return 1
end
`;

/** KEYS: record. ARGV: lock owner, result, record ttl s. Lock owner only: store the result -> 1|0. */
export const IDEMPOTENCY_COMPLETE = new LuaScript(
  'idempotency_complete',
  `${IDEMPOTENCY_COMPLETE_FUNCTION}
return idempotency_complete(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
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

/** rate_limit(key, now ms, limit, window ms, cost): GCRA as in rate-limit-math.ts -> 1, remaining | 0, retry after ms. */
const RATE_LIMIT_FUNCTION = `
local function rate_limit(key, now, limit, window, cost, keep_free)
  local eps = 1e-6
  local interval = window / limit
  local tat = now
  local stored = redis.call('GET', key)
  if stored then tat = math.max(tonumber(stored) or now, now) end
  local new_tat = tat + interval * cost
  local allow_at = new_tat + interval * (keep_free or 0) - window
  if allow_at - now > eps then
    return 0, math.max(1, math.ceil(allow_at - now - eps))
  end
  redis.call('SET', key, string.format('%.17g', new_tat), 'PX', string.format('%.0f', math.max(1, math.ceil(new_tat - now))))
  return 1, math.max(0, math.floor((now + window - new_tat) / interval + eps))
end
`;

/** KEYS: limiter. ARGV: now ms, limit, window ms, cost, keep free -> {1, remaining} | {0, retry after ms}. */
export const RATE_LIMIT = new LuaScript(
  'rate_limit',
  `${RATE_LIMIT_FUNCTION}
local allowed, value = rate_limit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
return {allowed, value}
`,
);

/**
 * The first step of an execute, in one round trip. KEYS: caller limiter, quote, idempotency record.
 * ARGV: now ms, limit, window ms, cost, then idempotency_begin's fingerprint, lock owner, lock ttl ms,
 * record ttl s, upstream key, then the quote check's owner, recipient ('' and '': no check) and refuse
 * flag ('1': refuse a key with no record whatever the quote says). A
 * refused key with no record (the refuse flag: the request is bad input) returns {2, ''} before the rate
 * limit is charged, having written nothing. A
 * refused rate limit returns {0, retry after ms} and writes nothing else; a key with no record whose
 * quote fails the check (missing, another caller's or recipient's, expired at now) returns
 * {2, quote json or ''} and claims nothing; otherwise {1, quote json or '', idempotency_begin's reply...}.
 */
export const EXECUTE_BEGIN = new LuaScript(
  'execute_begin',
  `${RATE_LIMIT_FUNCTION}${IDEMPOTENCY_BEGIN_FUNCTION}
local now = tonumber(ARGV[1])
if ARGV[12] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then return {2, ''} end
local allowed, value = rate_limit(KEYS[1], now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
if allowed == 0 then return {0, value} end
local quote = redis.call('GET', KEYS[2]) or ''
if ARGV[10] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then
  local ok = false
  if quote ~= '' and ARGV[12] ~= '1' then
    local decoded, q = pcall(cjson.decode, quote)
    if decoded and type(q) == 'table' and q['owner'] == ARGV[10] and q['recipientMsisdn'] == ARGV[11] then
      local exp = tonumber(q['exp'])
      -- A record without a readable expiry (written before it was kept) is the caller's to judge.
      ok = exp == nil or exp > now
    end
  end
  if not ok then return {2, quote} end
end
local begun = idempotency_begin(KEYS[3], ARGV[5], ARGV[6], now, tonumber(ARGV[7]), ARGV[8], ARGV[9])
table.insert(begun, 1, quote)
table.insert(begun, 1, 1)
return begun
`,
);

/**
 * The last step of an accepted execute, atomically. KEYS: status, owner, owner index, idempotency
 * record. ARGV: payout json, status ttl s, sub, owner ttl s, now ms, payout id, lock owner, result,
 * record ttl s -> {outcome, stored json, owner on record, completed 1|0}. The apply runs first: its
 * only errors (bad json, unknown status) come before any write, so the script writes all or nothing.
 */
export const EXECUTE_FINISH = new LuaScript(
  'execute_finish',
  `${APPLY_FUNCTION}${SET_OWNER_FUNCTION}${IDEMPOTENCY_COMPLETE_FUNCTION}
local outcome, stored = apply_payout(KEYS[1], ARGV[1], ARGV[2])
local owner = set_owner(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local completed = idempotency_complete(KEYS[4], ARGV[7], ARGV[8], ARGV[9])
return {outcome, stored, owner, completed}
`,
);

/** KEYS: lease. ARGV: token. Deletes the lease only while this token holds it -> 1|0. */
export const LEASE_RELEASE = new LuaScript(
  'lease_release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
