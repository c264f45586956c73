--[[ Make sure the data set has an epoch: the marker that tells a Redis holding our data from one that came back empty.
     Input:  KEYS[1] epoch (string)   ARGV[1] a fresh epoch to write when none is stored
     Output: { stored epoch, 1 when this call wrote it else 0 } ]]
local current = redis.call('GET', KEYS[1])
if current then
  return { current, 0 }
end
redis.call('SET', KEYS[1], ARGV[1])
return { ARGV[1], 1 }
