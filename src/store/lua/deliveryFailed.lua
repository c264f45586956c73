--[[ Record one failed delivery attempt against its endpoint: the circuit breaker shared by all replicas, and
     the endpoint's continuous-failure clock, which disables the endpoint once it has run long enough.
     Input:  KEYS[1] breaker of the endpoint (hash)   KEYS[2] disabled endpoints (hash)
             ARGV[1] endpoint name   ARGV[2] now (ms)   ARGV[3] '1' when the failure counts toward the breaker
             (timeout, connection error, 5xx, 429)   ARGV[4] consecutive failures that open the breaker
             ARGV[5] how long it stays open (ms)   ARGV[6] failing this long (ms) disables the endpoint
             ARGV[7] disable json   ARGV[8] longest quiet gap (ms) that still counts as one failing period
     Output: {breaker state 0 closed | 2 open, disabled by this call 0|1, ms failing so far}
     A failure starts the clock (`failingSince`) unless one is running; a success (deliveryFinish.lua) stops it,
     and so does a gap longer than ARGV[8] since the last failure: an endpoint nobody sent anything to for a day
     was idle, not failing, and one more failure must not disable it. Other answers
     (a 4xx but 410/429) neither count toward nor reset the breaker's consecutive failures. Reaching the
     threshold, or a failed half-open probe, (re)opens the breaker and frees the probe lease. ]]
local now = tonumber(ARGV[2])
local clock = redis.call('HMGET', KEYS[1], 'failingSince', 'lastFailureAt')
local since = tonumber(clock[1] or '')
local last = tonumber(clock[2] or '')
if not since or not last or now - last > tonumber(ARGV[8]) then
  since = now
  redis.call('HSET', KEYS[1], 'failingSince', now)
end
redis.call('HSET', KEYS[1], 'lastFailureAt', now)
local state = 0
if ARGV[3] == '1' then
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  if failures >= tonumber(ARGV[4]) then
    redis.call('HSET', KEYS[1], 'openUntil', now + tonumber(ARGV[5]))
    redis.call('HDEL', KEYS[1], 'probeUntil')
    state = 2
  end
end
local disabled = 0
if now - since >= tonumber(ARGV[6]) and redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[7]) == 1 then disabled = 1 end
return {state, disabled, now - since}
