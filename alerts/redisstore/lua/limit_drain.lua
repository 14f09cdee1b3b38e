-- Drain or Drop: remove the pending events, whose IDs start their dedup
-- window. ARGV[6] "1" to return them (Drain), "0" to return only how many
-- there were (Drop); ARGV[7] the TTL in milliseconds of the record KEYS[6]
-- of this call, named by an id new for every call.
--
-- The record holds what the call removed (the events, or their number) for
-- a while, so that a second run of the same call (go-redis sends a command
-- again when it lost the reply) answers what the first run removed,
-- instead of nothing: without it, the events of a Drain whose reply was
-- lost would be gone. A second run leaves pending alone.
begin()
local reply
local rec = KEYS[6]
if ARGV[6] == '1' then
	if redis.call('EXISTS', rec) == 1 then
		reply = redis.call('LRANGE', rec, 0, -1)
	else
		reply = redis.call('LRANGE', P, 0, -1)
		if #reply > 0 then
			redis.call('RENAME', P, rec)
			redis.call('PEXPIRE', rec, ARGV[7])
			forget(reply)
		end
	end
else
	local n = redis.call('GET', rec)
	if n then
		reply = tonumber(n)
	else
		local evs = redis.call('LRANGE', P, 0, -1)
		reply = #evs
		if reply > 0 then
			redis.call('DEL', P)
			redis.call('SET', rec, reply, 'PX', ARGV[7])
			forget(evs)
		end
	end
end
save()
return reply
