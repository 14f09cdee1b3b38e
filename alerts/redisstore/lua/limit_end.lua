-- Commit, GiveBack or Undeliver: end a lease. ARGV[6] lease id, ARGV[7]
-- how: "1" when the email was accepted (the slot is consumed as a send at
-- now, the events are forgotten and their IDs start their dedup window),
-- "0" when it was not (the slot is released, the events go back to the
-- front of pending), "2" when it was refused for good (the slot is
-- released, the events are appended to the undelivered list KEYS[7],
-- which keeps its newest ARGV[9] events, the discarded ones starting
-- their window, and lives the key TTL after this call); ARGV[8] the TTL
-- in milliseconds of the record KEYS[6] of this call, named by an id new
-- for every call; ARGV[10] GiveBack's retry time ("seconds nanoseconds",
-- '' for the others). GiveBack sets the retry time and counts a failure,
-- Commit and Undeliver reset the count, whether the lease is found or not
-- (as the in-memory store does). Returns {found, discarded}: found is 1,
-- or 0 when the lease is unknown or expired; discarded is the number of
-- undelivered events dropped past the cap.
--
-- The record (holding discarded) lets a second run of the same call
-- (go-redis sends a command again when it lost the reply) answer as the
-- first did, instead of reporting the lease it ended itself as expired,
-- and without counting a failure twice. Another call ending the same
-- lease again has another record key, and gets 0.
begin()
local how = ARGV[7]
local found, discarded = 0, 0
for i, l in ipairs(st.ls) do
	if l.id == ARGV[6] then
		if how == '1' then
			commitAt(now)
			forget(leaseEvents(l.id))
		elseif how == '0' then
			release()
			prepend(leaseEvents(l.id))
		else
			release()
			local U, cap = KEYS[7], tonumber(ARGV[9])
			for _, ev in ipairs(leaseEvents(l.id)) do redis.call('RPUSH', U, ev) end
			local n = redis.call('LLEN', U)
			if n > cap then
				discarded = n - cap
				forget(redis.call('LRANGE', U, 0, discarded - 1))
				redis.call('LTRIM', U, discarded, -1)
			end
			redis.call('PEXPIRE', U, keyTTL)
		end
		removeLease(i)
		found = 1
		break
	end
end
local replay = false
if found == 1 then
	redis.call('SET', KEYS[6], discarded, 'PX', ARGV[8])
else
	local rec = redis.call('GET', KEYS[6])
	if rec then
		found, discarded, replay = 1, tonumber(rec), true
	elseif how ~= '1' then
		-- A lease that expired while its email failed: its events are
		-- pending already, but the send its expiry charged did not happen.
		for i, l in ipairs(st.x) do
			if l.id == ARGV[6] then
				uncommit(l.d)
				table.remove(st.x, i)
				break
			end
		end
	end
end
if not replay then
	if how == '0' then
		local rs, rn = string.match(ARGV[10], '^(%-?%d+) (%d+)$')
		st.r = {tonumber(rs), tonumber(rn)}
		st.fl = st.fl + 1
	else
		st.fl = 0
	end
end
save()
return {found, discarded}
