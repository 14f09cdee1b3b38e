-- The fast path of Take (and Queue), run before anything else (before the
-- time functions and the shared code of limit_common.lua, which follow it
-- in the script): the common case of a noisy key, in its cooling period
-- with no lease out, no retry time past the cooling and no failure
-- counted. The full path would change nothing there but the pending list
-- and the seen IDs (count, cooling and last send stay as they are, and so
-- does the due time, the end of the cooling period), so the decision reads
-- one field, checks and records the events' IDs, appends the events and
-- writes nothing else. Arguments and reply as in limit_common.lua and
-- limit_take.lua.
--
-- The field fc, which the full path keeps (see save in limit_common.lua),
-- holds the end of the cooling period u and the last send l as two
-- fixed-width strings of 20 digits ("%011d%09d" of seconds and
-- nanoseconds), present only while the key is in cooldown mode, cooling,
-- with no lease out, no failure and no retry time after u. ARGV[3] and
-- ARGV[4] are now + 1ns and now + period + 1ns in the same form ('' when a
-- time does not fit it), so the fast path compares strings: no number is
-- parsed, and one comparison with the whole 40-byte field stands for one
-- with its first half (for 20-digit a, and v = u .. l: a < v exactly when
-- a <= u, and v < a exactly when u < a).
--
-- Idempotency: an event whose ID the seen set KEYS[4] holds may be a
-- duplicate, or an ID whose window ended and that the full path has not
-- swept yet; this path does not tell them apart but leaves the call to the
-- full path, having written nothing. A new ID is added as held (+inf).
--
-- The due time: when this path appends to an empty pending list, the key
-- falls due at the end of the cooling period, which it adds to the due
-- index KEYS[5] with ZADD NX. NX is enough: pending is empty here only
-- if the last full-path step left it empty (appends only add to it, and it
-- cannot expire while fc holds), with no lease out (fc says so); that step
-- took the key out of the index, and nothing but this ZADD puts it back
-- while fc holds. Should the key be there all the same, its due time is
-- one a full-path step computed, which NX keeps. When pending was not
-- empty the index
-- holds the due time the full path computed from the same state, the end
-- of the cooling period, and this path leaves it alone. (A claim of Due
-- moves a due time only once it has come, at or after the end of the
-- cooling period, when the fast path no longer runs.)
--
-- TTLs: the pending list's TTL is set when this path creates it and
-- otherwise left alone: the full path sets it to the key TTL, which is the
-- configured TTL plus the period, when it writes the state, and this path
-- runs only before the cooling period that state holds ends, within the
-- period (see the TTL rule at save in limit_common.lua). The seen set must
-- outlive the pending list, whose events' IDs it holds: the full path
-- that wrote fc made sure it exists (with the member '') and gave it the
-- seen TTL, at least the key TTL, when it gave the pending list the key
-- TTL, so this path sets it only when it creates the pending list, with
-- the due index's, which is raised to the key TTL when it is shorter.
do
	-- Globals are table lookups: the hot path uses locals.
	local K, A, call = KEYS, ARGV, redis.call
	local v = call('HGET', K[1], 'fc')
	local now1 = A[3]
	-- now < u <= now + period, and l <= now
	if v and #now1 == 20 and now1 < v and v < A[4] and A[1] == 'cooldown' and string.sub(v, 21) < now1 then
		local na = #A
		local fresh = true
		if na == 8 then
			local id = eventID(A[8])
			if id ~= '' then fresh = call('ZADD', K[4], 'NX', 'inf', id) == 1 end
		elseif na > 8 then
			local ids, seen = {}, {}
			for i = 8, na do
				local id = eventID(A[i])
				if id ~= '' then
					if seen[id] then
						fresh = false
						break
					end
					seen[id] = true
					ids[#ids + 1] = id
				end
			end
			for i = 1, fresh and #ids or 0, 1000 do -- in chunks: unpack is bounded by the Lua stack
				local sc = call('ZMSCORE', K[4], unpack(ids, i, math.min(i + 999, #ids)))
				for j = 1, #sc do
					if sc[j] then
						fresh = false
						break
					end
				end
				if not fresh then break end
			end
			if fresh and #ids > 0 then
				local args = {}
				for i, id in ipairs(ids) do
					args[2 * i - 1], args[2 * i] = 'inf', id
				end
				for i = 1, #args, 1000 do
					call('ZADD', K[4], unpack(args, i, math.min(i + 999, #args)))
				end
			end
		end
		if fresh then
			local n
			if na < 8 then
				n = call('LLEN', K[2])
			elseif na == 8 then
				n = call('RPUSH', K[2], A[8])
			else
				for i = 8, na, 1000 do
					n = call('RPUSH', K[2], unpack(A, i, math.min(i + 999, na)))
				end
			end
			if n == 0 then return {0, 0, 0, 0, 0, 0} end
			-- The end of the cooling period, u, is the next send.
			local us, un = tonumber(string.sub(v, 1, 11)), tonumber(string.sub(v, 12, 20))
			if na >= 8 and n == na - 7 then
				local seenTTL, member = string.match(A[5], ' (%d+) (%S+)$')
				call('PEXPIRE', K[2], A[2])
				call('PEXPIRE', K[4], seenTTL)
				call('ZADD', K[5], 'NX', string.format('%d', us * 1000000 + math.floor((un + 999) / 1000)), member)
				if call('PTTL', K[5]) < tonumber(A[2]) then call('PEXPIRE', K[5], A[2]) end
			end
			return {0, us, un, n, 0, 0}
		end
	end
end
