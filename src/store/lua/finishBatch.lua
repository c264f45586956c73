--[[ Mark one batch of the current poll cycle finished and add its numbers to the cycle's totals, atomically:
     of several batches finishing at once, exactly one sees the cycle end.
     Input:  KEYS[1] cycle batches (set)   KEYS[2] meta (hash)
             ARGV[1] batch job id   ARGV[2] ids   ARGV[3] events   ARGV[4] 1 if the batch failed, else 0
     Output: false while batches remain (or this one was already counted), else
             {started_at, batch count, ids, events, failed batches} of the finished cycle ]]
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return false end
local ids = redis.call('HINCRBY', KEYS[2], 'cycle_ids', ARGV[2])
local events = redis.call('HINCRBY', KEYS[2], 'cycle_events', ARGV[3])
local failed = redis.call('HINCRBY', KEYS[2], 'cycle_failed_batches', ARGV[4])
if redis.call('SCARD', KEYS[1]) > 0 then return false end
local meta = redis.call('HMGET', KEYS[2], 'cycle_started_at', 'cycle_batch_count')
return {meta[1] or '0', meta[2] or '0', ids, events, failed}
