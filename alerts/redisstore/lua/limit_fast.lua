-- The fast path of Take, run before anything else (before the shared code
-- of limit_common.lua, which it follows in the script): the common case of
-- a noisy key, in its cooling period with no lease out. The full path
-- would change nothing there but the pending list (count, cooling and
-- last send stay as they are), so the decision reads one field, appends
-- the events and writes nothing else. Arguments and reply as in
-- limit_common.lua and limit_take.lua.
--
-- The field fc, which the full path keeps (see save in limit_common.lua),
-- holds the end of the cooling period u and the last send l as two
-- fixed-width strings of 20 digits ("%011d%09d" of seconds and
-- nanoseconds), present only while the key is in cooldown mode, cooling,
-- with no lease out. ARGV[3] and ARGV[4] are now + 1ns and now + period +
-- 1ns in the same form ('' when a time does not fit it), so the fast path
-- compares strings: no number is parsed, and one comparison with the whole
-- 40-byte field stands for one with its first half (for 20-digit a, and
-- v = u .. l: a < v exactly when a <= u, and v < a exactly when u < a).
--
-- The pending list's TTL is set when this path creates it and otherwise
-- left alone: the full path sets it to the key TTL, which is the
-- configured TTL plus the period, when it writes the state, and this path
-- runs only before the cooling period that state holds ends, within the
-- period (see the TTL rule at save in limit_common.lua).
do
	-- Globals are table lookups: the hot path uses locals.
	local K, A, call = KEYS, ARGV, redis.call
	local v = call('HGET', K[1], 'fc')
	local now1 = A[3]
	-- now < u <= now + period, and l <= now
	if v and #now1 == 20 and now1 < v and v < A[4] and A[1] == 'cooldown' and string.sub(v, 21) < now1 then
		local n
		local na = #A
		if na < 8 then
			n = call('LLEN', K[2])
		elseif na == 8 then
			n = call('RPUSH', K[2], A[8])
		else
			for i = 8, na, 1000 do -- in chunks: unpack is bounded by the Lua stack
				n = call('RPUSH', K[2], unpack(A, i, math.min(i + 999, na)))
			end
		end
		if na >= 8 and n == na - 7 then call('PEXPIRE', K[2], A[2]) end
		if n == 0 then return {0, 0, 0, 0} end
		-- The end of the cooling period, u, is the next send.
		return {0, tonumber(string.sub(v, 1, 11)), tonumber(string.sub(v, 12, 20)), n}
	end
end
