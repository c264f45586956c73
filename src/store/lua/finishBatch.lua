--[[ Mark one batch of the current poll cycle finished and add its numbers to the cycle's totals, atomically:
     of several batches finishing at once, exactly one sees the cycle end. Zero counts write nothing (most
     batches have no events and none fail), and the totals are read once, by the batch that ends the cycle.
     Input:  KEYS[1] cycle batches (set)   KEYS[2] meta (hash)
             ARGV[1] batch job id   ARGV[2] ids   ARGV[3] events   ARGV[4] 1 if the batch failed, else 0
             ARGV[5] now (ms): the end of a cycle whose last batch succeeded is its last successful poll
     Output: false while batches remain (or this one was already counted), else
             {started_at, batch count, ids, events, failed batches} of the finished cycle ]]
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return false end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', KEYS[2], 'cycle_ids', ARGV[2]) end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[2], 'cycle_events', ARGV[3]) end
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[2], 'cycle_failed_batches', ARGV[4]) end
if redis.call('SCARD', KEYS[1]) > 0 then return false end
if ARGV[4] == '0' then redis.call('HSET', KEYS[2], 'last_successful_poll', ARGV[5]) end
local meta = redis.call('HMGET', KEYS[2], 'cycle_started_at', 'cycle_batch_count', 'cycle_ids', 'cycle_events', 'cycle_failed_batches')
return {meta[1] or '0', meta[2] or '0', tonumber(meta[3] or '0'), tonumber(meta[4] or '0'), tonumber(meta[5] or '0')}
