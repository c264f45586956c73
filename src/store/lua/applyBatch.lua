--[[ Compare-and-set the new state of a batch of lipsyncs and append their events, atomically.
     Input:  KEYS[1] pending (zset)   KEYS[2] events (stream)   KEYS[3] status counts (hash)   KEYS[4] seen (zset)
             KEYS[5] unreadable (set)   KEYS[6] stalled (zset)   KEYS[7] stalled counts (hash)   KEYS[8] due (zset)
             KEYS[8+i] state hash of op i
             ARGV[1] ops (json array of {id, rev, set, del, events:[{id,type,body}], from, to, remove, terminal,
                     unreadable: 'add' | 'remove' | nil, stalled: 'add' | 'remove' | nil})
             ARGV[2] seconds to keep the state of an id that leaves the pending set
             ARGV[3] now (ms)   ARGV[4] next due times (json [ms, id, ms, id, …]; '[]' when poll.cadence is off)
             ARGV[5..] ids answered in this batch (the per-batch "seen" mark)
     Output: {appended events, result per op: 'applied' | 'conflict' | 'untracked'}
     An op applies only if the id is still pending and its state's `rev` is the one the caller read: a second
     replica applying the same answer finds the rev moved and emits nothing. Unchanged ids have no op: the only
     write for them is one ZADD for the whole batch. Stream entry fields (id, type, lipsync_id, event) are
     defined once in src/events/stream.ts (STREAM_FIELDS), which the dispatcher reads by. ]]
local ops = cjson.decode(ARGV[1])
local retention = tonumber(ARGV[2])
local appended = 0
local results = {}

if #ARGV >= 5 then
  local args = {}
  for i = 5, #ARGV do
    args[#args + 1] = ARGV[3]
    args[#args + 1] = ARGV[i]
  end
  redis.call('ZADD', KEYS[4], unpack(args))
end

-- Cadence: XX, so an id untracked since it was read is not brought back; removals below run after this.
local due = cjson.decode(ARGV[4])
if #due > 0 then redis.call('ZADD', KEYS[8], 'XX', unpack(due)) end

local function decrement(counts, label)
  if redis.call('HINCRBY', counts, label, -1) <= 0 then redis.call('HDEL', counts, label) end
end

-- A stalled id is counted under the status it stalled in (`from`: it has not changed since).
local function unstall(id, label)
  if redis.call('ZREM', KEYS[6], id) == 1 then decrement(KEYS[7], label) end
end

for i, op in ipairs(ops) do
  local stateKey = KEYS[8 + i]
  if not redis.call('ZSCORE', KEYS[1], op.id) then
    results[i] = 'untracked'
  else
    local rev = tonumber(redis.call('HGET', stateKey, 'rev') or '0')
    if rev ~= op.rev then
      results[i] = 'conflict'
    else
      local args = {'rev', rev + 1}
      for field, value in pairs(op.set) do
        args[#args + 1] = field
        args[#args + 1] = value
      end
      redis.call('HSET', stateKey, unpack(args))
      if #op.del > 0 then redis.call('HDEL', stateKey, unpack(op.del)) end
      for _, ev in ipairs(op.events) do
        redis.call('XADD', KEYS[2], '*', 'id', ev.id, 'type', ev.type, 'lipsync_id', op.id, 'event', ev.body)
        appended = appended + 1
      end
      if #op.events > 0 then redis.call('HINCRBY', stateKey, 'events', #op.events) end
      if op.unreadable == 'add' then redis.call('SADD', KEYS[5], op.id) end
      if op.unreadable == 'remove' then redis.call('SREM', KEYS[5], op.id) end
      if op.stalled == 'add' and redis.call('ZADD', KEYS[6], op.set.stalled_since, op.id) == 1 then
        redis.call('HINCRBY', KEYS[7], op.from, 1)
      end
      if op.stalled == 'remove' then unstall(op.id, op.from) end
      if op.from ~= op.to then
        decrement(KEYS[3], op.from)
        redis.call('HINCRBY', KEYS[3], op.to, 1)
      end
      if op.remove then
        redis.call('ZREM', KEYS[1], op.id)
        redis.call('ZREM', KEYS[4], op.id)
        redis.call('ZREM', KEYS[8], op.id)
        redis.call('SREM', KEYS[5], op.id)
        unstall(op.id, op.from)
        decrement(KEYS[3], op.to)
        if op.terminal then redis.call('HSET', stateKey, 'terminal', '1') end
        redis.call('EXPIRE', stateKey, retention)
      end
      results[i] = 'applied'
    end
  end
end
return {appended, results}
