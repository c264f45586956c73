--[[ Hand one delivery to its (endpoint, lipsync) FIFO, at most once.
     Input:  KEYS[1] hand-off marker (string)   KEYS[2] fifo (list)
             ARGV[1] token   ARGV[2] element "<token> <payload json>"   ARGV[3] marker ttl (seconds)
     Output: {pushed 0|1, head 0|1}
     A redelivered stream entry finds the marker and pushes nothing, but still learns whether its token is the
     head, so the caller can (re-)add the head's job if a crash came between this script and queue.add. ]]
local pushed = 0
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  pushed = 1
end
local prefix = ARGV[1] .. ' '
local head = redis.call('LINDEX', KEYS[2], 0)
local isHead = 0
if head and string.sub(head, 1, #prefix) == prefix then isHead = 1 end
return {pushed, isHead}
