--[[ Start tracking ids.
     Input:  KEYS[1] pending (zset)   KEYS[2] status counts (hash)   KEYS[i] state hash of ARGV[i] (i >= 3)
             ARGV[1] now (ms, the pending score)   ARGV[2] now (ISO 8601)   ARGV[3..] ids (normalised)
     Output: one code per id: 'tracked' | 'already' (pending) | 'terminal' (finished, kept for retention)
     A terminal id is not re-polled: its final state is known, and re-tracking would re-emit nothing new.
     A new state record gets its epoch (ms) here; a kept one keeps its epoch and sequence, so event ids never
     repeat across an untrack and re-track. ]]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local stateKey = KEYS[i]
  if redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = 'already'
  elseif redis.call('HGET', stateKey, 'terminal') == '1' then
    out[#out + 1] = 'terminal'
  else
    redis.call('ZADD', KEYS[1], ARGV[1], id)
    redis.call('HSETNX', stateKey, 'epoch', ARGV[1])
    redis.call('HSET', stateKey, 'tracked_at', ARGV[2], 'missed', 0, 'unreadable', 0)
    redis.call('PERSIST', stateKey)
    redis.call('HINCRBY', KEYS[2], redis.call('HGET', stateKey, 'label') or 'new', 1)
    out[#out + 1] = 'tracked'
  end
end
return out
