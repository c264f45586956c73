--[[ The Creatify request schedule shared by every replica and partition: each caller reserves the next free
     request slot (one per interval), then waits for it. Server time, so replicas with skewed clocks share one
     schedule. A reservation further away than ARGV[2] is not made (the caller backs off instead of holding its
     job that long). ARGV[3] > 0 instead holds every slot off until ARGV[3] ms from now (a 429's Retry-After).
     Input:  KEYS[1] gate (string: ms of the next free slot)
             ARGV[1] interval ms   ARGV[2] longest wait a caller accepts, ms   ARGV[3] hold-off ms or 0
     Output: ms until the reserved slot (0 = now); negative: no slot reserved, retry in that many ms ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local hold = tonumber(ARGV[3])
if hold > 0 then
  if now + hold > free then redis.call('SET', KEYS[1], now + hold, 'PX', hold + interval + 1000) end
  return 0
end
local slot = math.max(now, free)
local wait = slot - now
if wait > tonumber(ARGV[2]) then
  return -(wait - tonumber(ARGV[2]))
end
redis.call('SET', KEYS[1], slot + interval, 'PX', wait + interval + 1000)
return wait
