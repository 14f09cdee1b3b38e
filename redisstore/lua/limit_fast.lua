-- The fast path of Take, run before anything else (before the shared code
-- of limit_common.lua, which it follows in the script): the common case of
-- a noisy key, in its cooling period with no lease out. The full path
-- would change nothing there but the pending list (count, cooling and
-- last send stay as they are), so the decision reads one field, appends
-- the events and writes nothing else. Arguments as in limit_common.lua and
-- limit_take.lua.
--
-- The field fc, which the full path keeps (see save in limit_common.lua),
-- holds the end of the cooling period and the last send as two
-- fixed-width strings of 20 digits ("%011d%09d" of seconds and
-- nanoseconds), present only while the key is in cooldown mode, cooling,
-- with no lease out. ARGV[3] and ARGV[4] are now and now + period in the
-- same form ('' when a time does not fit it), so the fast path compares
-- strings: no number is parsed.
do
	-- Globals are table lookups: the hot path uses locals.
	local K, A, call = KEYS, ARGV, redis.call
	local v = call('HGET', K[1], 'fc')
	local now = A[3]
	if v and #v == 40 and A[1] == 'cooldown' and #now == 20 then
		local u = string.sub(v, 1, 20)
		-- now < end of cooling <= now + period, and last send <= now
		if now < u and u <= A[4] and string.sub(v, 21) <= now then
			local n
			if #A < 8 then
				n = call('LLEN', K[2])
			else
				if #A == 8 then
					n = call('RPUSH', K[2], A[8])
				else
					for i = 8, #A, 1000 do -- in chunks: unpack is bounded by the Lua stack
						n = call('RPUSH', K[2], unpack(A, i, math.min(i + 999, #A)))
					end
				end
				-- Every append renews the list's TTL: an event is kept the
				-- key TTL after it was appended (see save in limit_common.lua).
				call('PEXPIRE', K[2], A[2])
			end
			if n == 0 then return {0, 0, 0, 0} end
			return {0, u, 0, n}
		end
	end
end
