--[[ Which entries of a consumer's batch must wait because an earlier entry of the same lipsync is still
     pending outside the batch: read by another consumer (or by this one earlier) and not yet handed off.
     Input:  KEYS[1] events (stream)
             ARGV[1] consumer group   ARGV[2] highest stream id of the batch   ARGV[3] lipsync id field name
             ARGV[4] most pending entries to inspect   ARGV[5..] pairs: stream id, lipsync id (the batch)
     Output: the batch's stream ids that must wait
     Why this is enough: an entry is deleted in the step that acknowledges it, right after its hand-off, and
     XREADGROUP hands entries out in stream order, so every earlier entry of a lipsync that is not yet in its
     FIFO is in the group's pending list, at a lower id. ]]
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end
local inBatch = {}
for i = 5, #ARGV, 2 do inBatch[ARGV[i]] = true end
local earliest = {}
for _, row in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', ARGV[2], tonumber(ARGV[4]))) do
  local id = row[1]
  if not inBatch[id] then
    local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
    if entry then
      local fields = entry[2]
      for j = 1, #fields, 2 do
        if fields[j] == ARGV[3] then
          -- XPENDING lists in id order: the first one seen per lipsync is its earliest.
          if not earliest[fields[j + 1]] then earliest[fields[j + 1]] = id end
          break
        end
      end
    end
  end
end
local wait = {}
for i = 5, #ARGV, 2 do
  local first = earliest[ARGV[i + 1]]
  if first and before(first, ARGV[i]) then wait[#wait + 1] = ARGV[i] end
end
return wait
