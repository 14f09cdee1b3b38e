-- The fast path of Take, run before anything else (before the shared code
-- of limit_common.lua, which it precedes in the script): the common case of
-- a noisy key, in its cooling period with no lease out. The full path
-- would change nothing there but the pending list (cycle, cooling and last
-- send stay as they are), so the decision reads six fields, appends the
-- events and writes nothing else. Arguments as in limit_common.lua and
-- limit_take.lua.
do
	local q = redis.call('HMGET', KEYS[1], 'm', 'us', 'un', 'ls', 'ln', 'le')
	if ARGV[1] == 'cooldown' and q[1] == 'cooldown' and q[6] == '' and q[2] and q[2] ~= '' and q[4] then
		local ns, nn = tonumber(ARGV[5]), tonumber(ARGV[6])
		local us, un = tonumber(q[2]), tonumber(q[3])
		local ls, ln = tonumber(q[4]), tonumber(q[5])
		local es, en = ns + tonumber(ARGV[3]), nn + tonumber(ARGV[4])
		if en >= 1000000000 then es, en = es + 1, en - 1000000000 end
		-- now < until <= now + period, and last <= now
		if (ns < us or (ns == us and nn < un)) and (us < es or (us == es and un <= en))
			and (ls < ns or (ls == ns and ln <= nn)) then
			local n
			if #ARGV < 11 then
				n = redis.call('LLEN', KEYS[2])
			else
				for i = 11, #ARGV, 1000 do -- in chunks: unpack is bounded by the Lua stack
					n = redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
				end
				if n == #ARGV - 10 then redis.call('PEXPIRE', KEYS[2], ARGV[7]) end
			end
			if n == 0 then return {0, 0, 0, 0} end
			return {0, us, un, n}
		end
	end
end
