--[[ Finish the head delivery of a FIFO: pop it and, in the same step, record its dead letter (capped), close
     the breaker after a success and/or disable its endpoint, so a crash can neither lose the dead letter nor
     record it twice.
     Input:  KEYS[1] fifo (list)   KEYS[2] dead letters of the endpoint (list)   KEYS[3] dead-letter endpoints (set)
             KEYS[4] disabled endpoints (hash)   KEYS[5] breaker of the endpoint (hash)
             KEYS[6] queued deliveries per endpoint (hash)   KEYS[7] parked deliveries of the endpoint (zset)
             ARGV[1] token   ARGV[2] endpoint name   ARGV[3] dead letter json or ''   ARGV[4] disable json or ''
             ARGV[5] '1' when delivered (closes the breaker)   ARGV[6] most dead letters kept for the endpoint
     Output: {popped 0|1, dead letters dropped} or {popped 0|1, dropped, head element after the step, promote 0|1}
             where promote is 1 when the new head's job was parked (deliveryPosition.lua) and so needs promoting
     Only a matching head is popped: a stalled re-run of a job that already finished changes nothing. The
     dead-letter cap is the one place a delivery is dropped: the oldest letters go, and the caller counts them. ]]
if ARGV[5] == '1' then redis.call('DEL', KEYS[5]) end
local prefix = ARGV[1] .. ' '
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {0, 0} end
if string.sub(head, 1, #prefix) ~= prefix then return {0, 0, head} end
redis.call('LPOP', KEYS[1])
if redis.call('HINCRBY', KEYS[6], ARGV[2], -1) < 0 then redis.call('HSET', KEYS[6], ARGV[2], 0) end
local dropped = 0
if ARGV[3] ~= '' then
  local length = redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
  local over = length - tonumber(ARGV[6])
  if over > 0 then
    redis.call('LTRIM', KEYS[2], over, -1)
    dropped = over
  end
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[2], ARGV[4]) end
local nextHead = redis.call('LINDEX', KEYS[1], 0)
if nextHead then
  local promote = 0
  local space = string.find(nextHead, ' ', 1, true)
  if space and redis.call('ZREM', KEYS[7], string.sub(nextHead, 1, space - 1)) == 1 then promote = 1 end
  return {1, dropped, nextHead, promote}
end
return {1, dropped}
