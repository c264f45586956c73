--[[ Where one delivery stands in its FIFO.
     Input:  KEYS[1] fifo (list)   KEYS[2] disabled endpoints (hash)   ARGV[1] token   ARGV[2] endpoint name
     Output: {'head', disabled 0|1, next element or nil} | {'waiting'} | {'done'} | {'done', head element}
     The head's answer carries what its delivery needs next (is the endpoint disabled, which element follows),
     saving two round trips on every delivery.
     'done' means the token is no longer queued (already delivered or dead-lettered): the job is a stalled
     re-run or a late duplicate, and the head element lets it make sure the current head has a job. ]]
local prefix = ARGV[1] .. ' '
local function matches(element) return string.sub(element, 1, #prefix) == prefix end
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {'done'} end
if matches(head) then return {'head', redis.call('HEXISTS', KEYS[2], ARGV[2]), redis.call('LINDEX', KEYS[1], 1)} end
local length = redis.call('LLEN', KEYS[1])
local from = 1
while from < length do
  for _, element in ipairs(redis.call('LRANGE', KEYS[1], from, from + 99)) do
    if matches(element) then return {'waiting'} end
  end
  from = from + 100
end
return {'done', head}
