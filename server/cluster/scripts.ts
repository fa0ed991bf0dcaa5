/**
 * The cluster's Lua scripts: each runs alone on the Redis server, so a claim, a hand-off or an adoption is
 * atomic. Keys (P = SWITCHBOARD_REDIS_PREFIX): P n:<node> lease, P nodes set of nodes, P adopt:<node> the
 * lock of the process adopting a dead node's tasks, P o:<node> set of tasks a node owns, P t:<id> field `o`
 * the task's owner, P cq shared queue (task id by creation time), P cqt its entries (target, waiting
 * reason), P cd deadlines of the queued tasks (ms), P x hash of every host online (id -> {n: node, i: info}),
 * P rc:<task> the process taking over a job whose host reconnected to it.
 */

/** Moves a task that was claimed off the shared queue to its new owner `me`. */
const CLAIM = `
local function claim(P, me, id)
  if redis.call('ZREM', P .. 'cq', id) == 0 then return false end
  redis.call('ZREM', P .. 'cd', id)
  local entry = redis.call('HGET', P .. 'cqt', id) or ''
  redis.call('HDEL', P .. 'cqt', id)
  redis.call('HSET', P .. 't:' .. id, 'o', me)
  redis.call('SADD', P .. 'o:' .. me, id)
  return entry
end
`;

/** ARGV: P, me, task id, score, deadline ms, entry JSON. A queued task leaves its owner for the shared queue. */
export const OFFER = `
local P, me, id = ARGV[1], ARGV[2], ARGV[3]
local key = P .. 't:' .. id
if redis.call('HGET', key, 's') ~= 'queued' then return 0 end
redis.call('SREM', P .. 'o:' .. me, id)
redis.call('HSET', key, 'o', '')
redis.call('ZADD', P .. 'cq', tonumber(ARGV[4]), id)
redis.call('ZADD', P .. 'cd', tonumber(ARGV[5]), id)
redis.call('HSET', P .. 'cqt', id, ARGV[6])
return 1
`;

/**
 * ARGV: P, me, hosts JSON [{i: id, l: labels, f: free slots}], how many queue entries to look at. Claims,
 * oldest first, the queued tasks these hosts can take; returns [id, entry, id, entry, ...].
 */
export const CLAIM_FOR_HOSTS = `${CLAIM}
local P, me = ARGV[1], ARGV[2]
local hosts = cjson.decode(ARGV[3])
local left = 0
for _, h in ipairs(hosts) do left = left + h.f end
local out = {}
if left <= 0 then return out end
local function has(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end
for _, id in ipairs(redis.call('ZRANGE', P .. 'cq', 0, tonumber(ARGV[4]) - 1)) do
  local raw = redis.call('HGET', P .. 'cqt', id)
  local ok, entry = pcall(cjson.decode, raw or '{}')
  local t = (ok and type(entry) == 'table' and type(entry.t) == 'table') and entry.t or {}
  local ext = type(t.extensionId) == 'string' and t.extensionId or nil
  local label = type(t.label) == 'string' and t.label or nil
  for _, h in ipairs(hosts) do
    if h.f > 0 and (not ext or ext == h.i) and (not label or has(h.l, label)) then
      local claimed = claim(P, me, id)
      if claimed then
        h.f = h.f - 1
        left = left - 1
        out[#out + 1] = id
        out[#out + 1] = claimed
      end
      break
    end
  end
  if left <= 0 then break end
end
return out
`;

/** ARGV: P, me, task id. Claims one task off the shared queue: its entry, or nil when it is not there. */
export const CLAIM_ONE = `${CLAIM}
return claim(ARGV[1], ARGV[2], ARGV[3])
`;

/** ARGV: P, me, lease ms. Renews the lease; 0 when another process has adopted this one (it was taken for dead). */
export const HEARTBEAT = `
local P, me = ARGV[1], ARGV[2]
if redis.call('EXISTS', P .. 'adopt:' .. me) == 1 then return 0 end
redis.call('SET', P .. 'n:' .. me, '1', 'PX', tonumber(ARGV[3]))
redis.call('SADD', P .. 'nodes', me)
return 1
`;

/**
 * ARGV: P, me, dead node, lock ms, force. Adopts a node whose lease ran out (or, forced, this process's former
 * self, which the data dir lock proves gone): only the process that sets the NX lock does. Returns {its
 * unfinished task ids, its hosts' ids} or nil.
 */
export const TAKEOVER = `
local P, me, dead = ARGV[1], ARGV[2], ARGV[3]
if ARGV[5] == '1' then redis.call('DEL', P .. 'n:' .. dead)
elseif redis.call('EXISTS', P .. 'n:' .. dead) == 1 then return nil end
if not redis.call('SET', P .. 'adopt:' .. dead, me, 'NX', 'PX', tonumber(ARGV[4])) then return nil end
local ids = redis.call('SMEMBERS', P .. 'o:' .. dead)
for _, id in ipairs(ids) do
  redis.call('HSET', P .. 't:' .. id, 'o', me)
  redis.call('SADD', P .. 'o:' .. me, id)
end
redis.call('DEL', P .. 'o:' .. dead)
redis.call('SREM', P .. 'nodes', dead)
local gone = {}
local xs = redis.call('HGETALL', P .. 'x')
for i = 1, #xs, 2 do
  local ok, e = pcall(cjson.decode, xs[i + 1])
  if ok and type(e) == 'table' and e.n == dead then
    redis.call('HDEL', P .. 'x', xs[i])
    gone[#gone + 1] = xs[i]
  end
end
return {ids, gone}
`;

/** ARGV: P, me, host id. Forgets a host in the shared registry unless another process has it now. */
export const HOST_GONE = `
local raw = redis.call('HGET', ARGV[1] .. 'x', ARGV[3])
if not raw then return 0 end
local ok, e = pcall(cjson.decode, raw)
if ok and type(e) == 'table' and e.n ~= ARGV[2] then return 0 end
redis.call('HDEL', ARGV[1] .. 'x', ARGV[3])
return 1
`;

/** ARGV: P, from, to, task id. Moves a task's ownership, only if `from` still owns it (compare and set). */
export const HANDOVER = `
local P, from, to, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if (redis.call('HGET', P .. 't:' .. id, 'o') or '') ~= from then return 0 end
redis.call('HSET', P .. 't:' .. id, 'o', to)
redis.call('SREM', P .. 'o:' .. from, id)
redis.call('SADD', P .. 'o:' .. to, id)
return 1
`;

export interface ClusterScripts {
  sbOffer(...args: Array<string | number>): Promise<number>;
  sbClaimForHosts(...args: Array<string | number>): Promise<string[]>;
  sbClaimOne(...args: Array<string | number>): Promise<string | null>;
  sbHeartbeat(...args: Array<string | number>): Promise<number>;
  sbTakeover(...args: Array<string | number>): Promise<[string[], string[]] | null>;
  sbHostGone(...args: Array<string | number>): Promise<number>;
  sbHandover(...args: Array<string | number>): Promise<number>;
}

export const SCRIPTS: Record<keyof ClusterScripts, string> = {
  sbOffer: OFFER,
  sbClaimForHosts: CLAIM_FOR_HOSTS,
  sbClaimOne: CLAIM_ONE,
  sbHeartbeat: HEARTBEAT,
  sbTakeover: TAKEOVER,
  sbHostGone: HOST_GONE,
  sbHandover: HANDOVER,
};
