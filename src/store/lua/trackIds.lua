--[[ Start tracking ids; for discovery, also remember each id as discovered in the same atomic step.
     Input:  KEYS[1] pending (zset)   KEYS[2] status counts (hash)   KEYS[3] discovered (zset, used when ARGV[3] > 0)
             KEYS[4] due (zset: a newly tracked id is due now)   KEYS[i + 1] state hash of ARGV[i] (i >= 4)
             ARGV[1] now (ms, the pending score)   ARGV[2] now (ISO 8601)
             ARGV[3] discovered cap: 0 = plain tracking; N > 0 = discovery, keeping at most N remembered ids
             ARGV[4..] ids (normalised)
     Output: one code per id: 'tracked' | 'already' (pending) | 'terminal' (finished, kept for retention)
             | 'known' (discovery only: discovered before, so left alone even if a team untracked it)
     A terminal id is not re-polled: its final state is known, and re-tracking would re-emit nothing new.
     A new state record gets its epoch (ms) here; a kept one keeps its epoch and sequence, so event ids never
     repeat across an untrack and re-track. Re-tracking restarts the stall clock (changed_at, stalled_since).
     Discovered ids are scored by the last time discovery listed them, so trimming to the cap forgets the ids
     the listing stopped showing first; a crash can no longer mark an id discovered without tracking it. ]]
local cap = tonumber(ARGV[3])
local discovered = KEYS[3]
if cap > 0 and redis.call('TYPE', discovered)['ok'] == 'set' then
  -- Written by versions that kept a plain set: keep those ids, oldest-scored, so they are trimmed first.
  local members = redis.call('SMEMBERS', discovered)
  redis.call('DEL', discovered)
  for i = 1, #members, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #members) do
      args[#args + 1] = 0
      args[#args + 1] = members[j]
    end
    redis.call('ZADD', discovered, unpack(args))
  end
end

local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local stateKey = KEYS[i + 1]
  if cap > 0 and redis.call('ZADD', discovered, ARGV[1], id) == 0 then
    out[#out + 1] = 'known'
  elseif redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = 'already'
  elseif redis.call('HGET', stateKey, 'terminal') == '1' then
    out[#out + 1] = 'terminal'
  else
    redis.call('ZADD', KEYS[1], ARGV[1], id)
    redis.call('ZADD', KEYS[4], ARGV[1], id)
    redis.call('HSETNX', stateKey, 'epoch', ARGV[1])
    redis.call('HSET', stateKey, 'tracked_at', ARGV[2], 'missed', 0, 'unreadable', 0)
    -- Stalled reports belong to the previous tracking; the stall clock restarts with this one.
    redis.call('HDEL', stateKey, 'stalled_since')
    if redis.call('HEXISTS', stateKey, 'status') == 1 then redis.call('HSET', stateKey, 'changed_at', ARGV[1]) end
    redis.call('PERSIST', stateKey)
    redis.call('HINCRBY', KEYS[2], redis.call('HGET', stateKey, 'label') or 'new', 1)
    out[#out + 1] = 'tracked'
  end
end

if cap > 0 then
  local excess = redis.call('ZCARD', discovered) - cap
  if excess > 0 then
    redis.call('ZREMRANGEBYRANK', discovered, 0, excess - 1)
  end
end
return out
