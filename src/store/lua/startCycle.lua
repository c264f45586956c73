--[[ Claim a poll cycle for one scheduler tick, atomically, so two ticks running at once (two replicas, or a
     tick retried while another starts) can never both start a cycle and poll the same ids twice.
     Input:  KEYS[1] pending (zset)   KEYS[2] cycle batches (set)   KEYS[3] meta (hash)   KEYS[4] due (zset, cadence)
             ARGV[1] tick id   ARGV[2] now (ms)   ARGV[3] batch size   ARGV[4] tick job id
             ARGV[5] id of a cycle the caller found dead (its batch jobs hold no lock and wait nowhere), or ''
             ARGV[6] batch job id prefix: batch i is ARGV[6] .. i (the format is batchJobId's, in cycle.ts)
             ARGV[7] cadence only: due horizon (ms)   ARGV[8] cadence only: most batches this cycle may hold
     Output: {'busy', outstanding, current cycle id} | {'idle'} | {'started', batch count}
     The same tick id again (a retried tick) gets {'started', its batch count} without resetting anything. A
     cycle with batches outstanding is replaced only when the caller proved exactly that cycle dead (ARGV[5]):
     the lease follows the liveness of its jobs, never a fixed age, so a long but progressing cycle lives on.
     Without cadence the cycle covers every pending id; with it, the ids due by the horizon, up to the budget. ]]
local tick, size, dead = ARGV[1], tonumber(ARGV[3]), ARGV[5]
local current = redis.call('HMGET', KEYS[3], 'cycle_id', 'cycle_batch_count')
if current[1] == tick then return {'started', tonumber(current[2] or '0')} end
local outstanding = redis.call('SCARD', KEYS[2])
if outstanding > 0 and (dead == '' or dead ~= current[1]) then return {'busy', outstanding, current[1] or ''} end
local total
if ARGV[7] then
  total = math.min(redis.call('ZCOUNT', KEYS[4], '-inf', ARGV[7]), tonumber(ARGV[8]) * size)
else
  total = redis.call('ZCARD', KEYS[1])
end
if total == 0 then
  redis.call('DEL', KEYS[2])
  return {'idle'}
end
local count = math.ceil(total / size)
redis.call('DEL', KEYS[2])
local ids = {}
for i = 0, count - 1 do
  ids[#ids + 1] = ARGV[6] .. i
  if #ids == 1000 or i == count - 1 then
    redis.call('SADD', KEYS[2], unpack(ids))
    ids = {}
  end
end
redis.call('HSET', KEYS[3], 'cycle_id', tick, 'cycle_started_at', ARGV[2], 'cycle_ids', 0, 'cycle_events', 0,
  'cycle_failed_batches', 0, 'cycle_batch_count', count, 'cycle_tick_job', ARGV[4])
return {'started', count}
