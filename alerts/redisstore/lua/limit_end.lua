-- Commit or GiveBack: end a lease. ARGV[6] lease id, ARGV[7] "1" when the
-- email was accepted (the slot is consumed as a send at now, the events are
-- forgotten) or "0" when it was not (the slot is released, the events go
-- back to the front of pending), ARGV[8] the TTL in milliseconds of the
-- record KEYS[4] of this call, named by an id new for every call.
-- Returns 1, or 0 when the lease is unknown or expired.
--
-- The record lets a second run of the same call (go-redis sends a command
-- again when it lost the reply) answer 1 as the first did, instead of
-- reporting the lease it ended itself as expired. Another call ending the
-- same lease again has another record key, and gets 0.
begin()
local found = 0
for i, l in ipairs(st.ls) do
	if l.id == ARGV[6] then
		if ARGV[7] == '1' then
			commitAt(now)
		else
			release()
			prepend(leaseEvents(l.id))
		end
		removeLease(i)
		found = 1
		break
	end
end
if found == 1 then
	redis.call('SET', KEYS[4], '1', 'PX', ARGV[8])
elseif redis.call('EXISTS', KEYS[4]) == 1 then
	found = 1
end
save()
return found
