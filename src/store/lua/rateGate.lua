--[[ One Creatify request slot from the rate shared by every partition and replica (GCRA with no burst: one
     admission per interval, like the single-queue BullMQ limiter it stands in for when redis.partitions > 1).
     Server time, so replicas with skewed clocks still share one schedule.
     Input:  KEYS[1] rate gate (string: ms of the next free slot)   ARGV[1] interval ms
     Output: 0 when admitted (the slot is taken), else ms to wait ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free > now then
  return free - now
end
redis.call('SET', KEYS[1], now + interval, 'PX', interval + 1000)
return 0
