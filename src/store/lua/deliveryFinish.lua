--[[ Finish the head delivery of a FIFO: pop it and, in the same step, record its dead letter and/or disable
     its endpoint, so a crash can neither lose the dead letter nor record it twice.
     Input:  KEYS[1] fifo (list)   KEYS[2] dead letters of the endpoint (list)   KEYS[3] dead-letter endpoints (set)
             KEYS[4] disabled endpoints (hash)
             ARGV[1] token   ARGV[2] endpoint name   ARGV[3] dead letter json or ''   ARGV[4] disable json or ''
     Output: {popped 0|1} or {popped 0|1, head element after the step}
     Only a matching head is popped: a stalled re-run of a job that already finished changes nothing. ]]
local prefix = ARGV[1] .. ' '
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {0} end
if string.sub(head, 1, #prefix) ~= prefix then return {0, head} end
redis.call('LPOP', KEYS[1])
if ARGV[3] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[2], ARGV[4]) end
local nextHead = redis.call('LINDEX', KEYS[1], 0)
if nextHead then return {1, nextHead} end
return {1}
