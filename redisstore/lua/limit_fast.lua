-- The fast path of Take, run before anything else (before the shared code
-- of limit_common.lua, which it precedes in the script): the common case of
-- a noisy key, in its cooling period with no lease out. The full path
-- would change nothing there but the pending list (cycle, cooling and last
-- send stay as they are), so the decision reads six fields, appends the
-- events and writes nothing else. Arguments as in limit_common.lua and
-- limit_take.lua.
do
	-- Globals are table lookups: the hot path uses locals.
	local K, A, num, call = KEYS, ARGV, tonumber, redis.call
	local q = call('HMGET', K[1], 'm', 'us', 'un', 'ls', 'ln', 'le')
	if A[1] == 'cooldown' and q[1] == 'cooldown' and q[6] == '' and q[2] and q[2] ~= '' and q[4] then
		local ns, nn = num(A[5]), num(A[6])
		local us, un = num(q[2]), num(q[3])
		local ls, ln = num(q[4]), num(q[5])
		local es, en = ns + num(A[3]), nn + num(A[4])
		if en >= 1000000000 then es, en = es + 1, en - 1000000000 end
		-- now < until <= now + period, and last <= now
		if (ns < us or (ns == us and nn < un)) and (us < es or (us == es and un <= en))
			and (ls < ns or (ls == ns and ln <= nn)) then
			local n
			if #A < 11 then
				n = call('LLEN', K[2])
			elseif #A == 11 then
				n = call('RPUSH', K[2], A[11])
				if n == 1 then call('PEXPIRE', K[2], A[7]) end
			else
				for i = 11, #A, 1000 do -- in chunks: unpack is bounded by the Lua stack
					n = call('RPUSH', K[2], unpack(A, i, math.min(i + 999, #A)))
				end
				if n == #A - 10 then call('PEXPIRE', K[2], A[7]) end
			end
			if n == 0 then return {0, 0, 0, 0} end
			return {0, us, un, n}
		end
	end
end
