-- Due, second step, for one bucket: claim up to ARGV[3] of the keys of the
-- bucket's due index KEYS[1] that are due at ARGV[1] (microseconds), most
-- overdue first, by moving their due time to ARGV[2], the end of the
-- claim: no other call of Due returns them before then, and the next step
-- of each key (the claimant's Take) sets its due time anew. Returns
-- {earliest, members...}: the earliest due time of the index after the
-- claims ('' when it is empty) and the members claimed.
local D = KEYS[1]
local ms = redis.call('ZRANGEBYSCORE', D, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local args = {}
for i, m in ipairs(ms) do
	args[2 * i - 1], args[2 * i] = ARGV[2], m
end
for i = 1, #args, 1000 do -- in chunks: unpack is bounded by the Lua stack
	redis.call('ZADD', D, 'XX', unpack(args, i, math.min(i + 999, #args)))
end
local first = redis.call('ZRANGEBYSCORE', D, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local reply = {first[2] or ''}
for i, m in ipairs(ms) do reply[i + 1] = m end
return reply
