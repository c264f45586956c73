--[[ Stop tracking ids; their last state is kept for the retention period so `status` still answers.
     Input:  KEYS[1] pending (zset)   KEYS[2] status counts (hash)   KEYS[3] seen (zset)   KEYS[4] unreadable (set)
             KEYS[5] stalled (zset)   KEYS[6] stalled counts (hash)   KEYS[7] due (zset)
             KEYS[6+i] state hash of ARGV[i] (i >= 2)
             ARGV[1] retention (seconds)   ARGV[2..] ids
     Output: one code per id: 'untracked' | 'unknown' (was not pending) ]]
local out = {}
for i = 2, #ARGV do
  local stateKey = KEYS[6 + i]
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[3], ARGV[i])
    redis.call('ZREM', KEYS[7], ARGV[i])
    redis.call('SREM', KEYS[4], ARGV[i])
    local label = redis.call('HGET', stateKey, 'label') or 'new'
    if redis.call('HINCRBY', KEYS[2], label, -1) <= 0 then redis.call('HDEL', KEYS[2], label) end
    if redis.call('ZREM', KEYS[5], ARGV[i]) == 1 and redis.call('HINCRBY', KEYS[6], label, -1) <= 0 then
      redis.call('HDEL', KEYS[6], label)
    end
    if redis.call('EXISTS', stateKey) == 1 then redis.call('EXPIRE', stateKey, ARGV[1]) end
    out[#out + 1] = 'untracked'
  else
    out[#out + 1] = 'unknown'
  end
end
return out
