// The task store's Lua scripts (see redis-store.ts): each runs alone on the Redis server, so a commit is atomic
// and a paged read stops at its byte budget on the server, not after shipping the backlog to the hub.

/**
 * One commit, atomic (a Lua script runs alone on the Redis server): new task rows with their list indexes,
 * events appended to each task's stream under the id `0-<seq>`, changed rows moved between the indexes.
 * A retried commit is harmless: an existing row is not inserted again and Redis refuses a stream id it has
 * already seen.
 *
 * Keys (P = the prefix): P t:<id> hash {b: task JSON without input, i: input JSON, s: status, x: extension,
 * k: kind, p: parent, c: createdAt, q: newest stored seq}; P e:<id> stream of {e: event JSON}; sorted sets of
 * `createdAt|id` members (all score 0, ordered by the member) for the list views: P i:all, P i:s:<status>,
 * P i:k:<kind>, P i:x:<extension>, P i:p:<parent>. In a cluster (`nodeId` set) the row also names its owner
 * (o: the process that writes its events) and P o:<node> holds each node's unfinished tasks (server/cluster).
 *
 * The same script appends one entry per commit to the change stream P bus {o: the committing process,
 * e: JSON array of the events it stored, s: JSON array of the summaries of the rows it wrote}: what the other
 * hub processes read to tell their subscribers (realtime/change-feed.ts). Atomic with the commit, so nobody
 * hears of an event that is not stored, and a retried commit announces only the events it stored.
 * An event body over ARGV[10] bytes, or one that would take the entry's bodies past ARGV[11] bytes, goes in
 * `e` as a reference {taskId, seq, ref: true} instead: the readers fetch it from P e:<id> (remote-tasks.ts),
 * so megabyte output chunks are not copied into the stream and read back by every process.
 */
export const COMMIT = `
local P = ARGV[1]
local maxlen = tonumber(ARGV[2])
local ni, ne, nu = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local origin, summaries, busmax = ARGV[6], ARGV[7], tonumber(ARGV[8])
local node = ARGV[9]
local inlineMax, inlineBudget = tonumber(ARGV[10]), tonumber(ARGV[11])
local inlined = 0
local a = 12
for _ = 1, ni do
  local id, kind, status, ext, parent, created, body, input =
    ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  a = a + 8
  local key = P .. 't:' .. id
  if redis.call('EXISTS', key) == 0 then
    local m = created .. '|' .. id
    redis.call('HSET', key, 'b', body, 'i', input, 's', status, 'x', ext, 'k', kind, 'p', parent, 'c', created, 'q', 0)
    if node ~= '' then
      redis.call('HSET', key, 'o', node)
      redis.call('SADD', P .. 'o:' .. node, id)
    end
    redis.call('ZADD', P .. 'i:all', 0, m)
    redis.call('ZADD', P .. 'i:s:' .. status, 0, m)
    redis.call('ZADD', P .. 'i:k:' .. kind, 0, m)
    if ext ~= '' then redis.call('ZADD', P .. 'i:x:' .. ext, 0, m) end
    if parent ~= '' then redis.call('ZADD', P .. 'i:p:' .. parent, 0, m) end
  end
end
local newest = {}
local told = {}
for _ = 1, ne do
  local id, seq, body = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  local r
  if maxlen > 0 then
    r = redis.pcall('XADD', P .. 'e:' .. id, 'MAXLEN', '~', maxlen, '0-' .. seq, 'e', body)
  else
    r = redis.pcall('XADD', P .. 'e:' .. id, '0-' .. seq, 'e', body)
  end
  if type(r) ~= 'table' or not r.err then
    newest[id] = seq
    if #body <= inlineMax and inlined + #body <= inlineBudget then
      told[#told + 1] = body
      inlined = inlined + #body
    else
      told[#told + 1] = cjson.encode({ taskId = id, seq = tonumber(seq), ref = true })
    end
  end
end
for id, seq in pairs(newest) do redis.call('HSET', P .. 't:' .. id, 'q', seq) end
for _ = 1, nu do
  local id, status, ext, body = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  a = a + 4
  local key = P .. 't:' .. id
  local old = redis.call('HMGET', key, 's', 'x', 'c')
  if old[3] then
    local m = old[3] .. '|' .. id
    if old[1] ~= status then
      redis.call('ZREM', P .. 'i:s:' .. old[1], m)
      redis.call('ZADD', P .. 'i:s:' .. status, 0, m)
    end
    if old[2] ~= ext then
      if old[2] and old[2] ~= '' then redis.call('ZREM', P .. 'i:x:' .. old[2], m) end
      if ext ~= '' then redis.call('ZADD', P .. 'i:x:' .. ext, 0, m) end
    end
    redis.call('HSET', key, 'b', body, 's', status, 'x', ext)
    if status == 'succeeded' or status == 'failed' or status == 'cancelled' or status == 'timed_out' then
      local owner = redis.call('HGET', key, 'o')
      if owner and owner ~= '' then redis.call('SREM', P .. 'o:' .. owner, id) end
    end
  end
end
if #told > 0 or summaries ~= '[]' then
  redis.call('XADD', P .. 'bus', 'MAXLEN', '~', busmax, '*', 'o', origin, 'e', '[' .. table.concat(told, ',') .. ']', 's', summaries)
end
return 1
`;

/**
 * One page of a task's events: the `e` bodies of stream KEYS[1] after the exclusive id ARGV[1], at most
 * ARGV[2] of them, stopping after the one that takes the total past ARGV[3] bytes (0: no byte budget). With a
 * byte budget the entries are taken one at a time, so a backlog of 1 MB chunks costs a page, not the backlog.
 */
export const READ = `
local from, limit, maxBytes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out, bytes = {}, 0
local step = limit
if maxBytes > 0 then step = 1 end
while #out < limit do
  local want = math.min(step, limit - #out)
  local page = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', want)
  for _, entry in ipairs(page) do
    local body = entry[2][2]
    out[#out + 1] = body
    bytes = bytes + #body
    if maxBytes > 0 and bytes >= maxBytes then return out end
    from = '(' .. entry[1]
  end
  if #page < want then break end
end
return out
`;
