--[[ Where one delivery stands in its FIFO, and whether its endpoint's circuit breaker lets it go now.
     Input:  KEYS[1] fifo (list)   KEYS[2] disabled endpoints (hash)   KEYS[3] breaker of the endpoint (hash)
             KEYS[4] parked deliveries of the endpoint (zset token → expiry ms)
             ARGV[1] token   ARGV[2] endpoint name   ARGV[3] now (ms)   ARGV[4] failures that open the breaker
             ARGV[5] probe lease (ms)   ARGV[6] how long a parked mark lasts (ms)
     Output: {'head', disabled 0|1, next element or nil, breaker state 0|1}
             | {'held', wait ms, breaker state 1|2} | {'waiting'} | {'done'} | {'done', head element}
     The head's answer carries what its delivery needs next (is the endpoint disabled, which element follows),
     saving round trips on every delivery. A head is 'held' (no attempt, nothing dropped) while the breaker is
     open, or half-open with another delivery's probe under way; a head that gets state 1 is that probe, and
     holds the probe lease until it ends or the lease runs out (its replica died).
     'waiting' also marks the token parked (its job is about to be delayed), so the finish step that makes it the
     head knows to promote its job; expired marks are pruned here. 'done' means the token is no longer queued (already delivered or dead-lettered): the job is a stalled
     re-run or a late duplicate, and the head element lets it make sure the current head has a job. ]]
local prefix = ARGV[1] .. ' '
local function matches(element) return string.sub(element, 1, #prefix) == prefix end
local function num(value) if value then return tonumber(value) or 0 end return 0 end
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {'done'} end
if matches(head) then
  local disabled = redis.call('HEXISTS', KEYS[2], ARGV[2])
  local state = 0
  if disabled == 0 then
    local breaker = redis.call('HMGET', KEYS[3], 'failures', 'openUntil', 'probeUntil')
    if num(breaker[1]) >= tonumber(ARGV[4]) then
      local now = tonumber(ARGV[3])
      local openUntil = num(breaker[2])
      if now < openUntil then return {'held', openUntil - now, 2} end
      local probeUntil = num(breaker[3])
      if now < probeUntil then return {'held', probeUntil - now, 1} end
      redis.call('HSET', KEYS[3], 'probeUntil', now + tonumber(ARGV[5]))
      state = 1
    end
  end
  return {'head', disabled, redis.call('LINDEX', KEYS[1], 1), state}
end
local length = redis.call('LLEN', KEYS[1])
local from = 1
while from < length do
  for _, element in ipairs(redis.call('LRANGE', KEYS[1], from, from + 99)) do
    if matches(element) then
      local now = tonumber(ARGV[3])
      redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
      redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[1])
      return {'waiting'}
    end
  end
  from = from + 100
end
return {'done', head}
