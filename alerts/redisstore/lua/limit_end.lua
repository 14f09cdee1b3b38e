-- Commit, GiveBack or Undeliver: end a lease. ARGV[6] lease id, ARGV[7]
-- how: "1" when the email was accepted (the slot is consumed as a send at
-- now, the events are forgotten), "0" when it was not (the slot is
-- released, the events go back to the front of pending), "2" when it was
-- refused for good (the slot is released, the events are appended to the
-- undelivered list KEYS[5], which keeps its newest ARGV[9] events and
-- lives the key TTL after this call); ARGV[8] the TTL in milliseconds of
-- the record KEYS[4] of this call, named by an id new for every call.
-- Returns {found, discarded}: found is 1, or 0 when the lease is unknown
-- or expired; discarded is the number of undelivered events dropped past
-- the cap.
--
-- The record (holding discarded) lets a second run of the same call
-- (go-redis sends a command again when it lost the reply) answer as the
-- first did, instead of reporting the lease it ended itself as expired.
-- Another call ending the same lease again has another record key, and
-- gets 0.
begin()
local found, discarded = 0, 0
for i, l in ipairs(st.ls) do
	if l.id == ARGV[6] then
		if ARGV[7] == '1' then
			commitAt(now)
		elseif ARGV[7] == '0' then
			release()
			prepend(leaseEvents(l.id))
		else
			release()
			local U, cap = KEYS[5], tonumber(ARGV[9])
			for _, ev in ipairs(leaseEvents(l.id)) do redis.call('RPUSH', U, ev) end
			local n = redis.call('LLEN', U)
			if n > cap then
				discarded = n - cap
				redis.call('LTRIM', U, discarded, -1)
			end
			redis.call('PEXPIRE', U, keyTTL)
		end
		removeLease(i)
		found = 1
		break
	end
end
if found == 1 then
	redis.call('SET', KEYS[4], discarded, 'PX', ARGV[8])
else
	local rec = redis.call('GET', KEYS[4])
	if rec then
		found, discarded = 1, tonumber(rec)
	elseif ARGV[7] ~= '1' then
		-- A lease that expired while its email failed: its events are
		-- pending already, but the send its expiry charged did not happen.
		for i, l in ipairs(st.x) do
			if l.id == ARGV[6] then
				normalize(now)
				uncommit(l.d)
				table.remove(st.x, i)
				break
			end
		end
	end
end
save()
return {found, discarded}
