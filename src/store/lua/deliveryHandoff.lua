--[[ Hand one delivery to its (endpoint, lipsync) FIFO, at most once while a redelivery of it can happen.
     Input:  KEYS[1] hand-off markers of the endpoint (zset token → expiry ms)   KEYS[2] fifo (list)
             KEYS[3] queued deliveries per endpoint (hash)
             ARGV[1] token   ARGV[2] element "<token> <payload json>"   ARGV[3] now (ms)   ARGV[4] marker lifetime (ms)
             ARGV[5] endpoint name
     Output: {pushed 0|1, head 0|1}
     A redelivered stream entry (or a replay run again) finds its marker and pushes nothing, but still learns
     whether its token is the head, so the caller can (re-)add the head's job if a crash came between this
     script and queue.add. Markers live `lifetime` ms, as long as a reclaim can redeliver the entry; expired
     ones are pruned here, so the set is bounded by the hand-offs of one lifetime. ]]
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local pushed = 0
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  pushed = 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
local prefix = ARGV[1] .. ' '
local head = redis.call('LINDEX', KEYS[2], 0)
local isHead = 0
if head and string.sub(head, 1, #prefix) == prefix then isHead = 1 end
return {pushed, isHead}
