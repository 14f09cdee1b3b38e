-- Take: append events to pending; if any is pending and the policy allows
-- a send now, hold a slot and move all pending events into a new lease.
-- ARGV[6] lease id, ARGV[7] lease TTL ("seconds nanoseconds"),
-- ARGV[8...] encoded events to append.
-- Returns {1, deadline s, deadline ns, pending, events...} for a lease, or
-- {0, next s, next ns, pending} (next 0, 0 when nothing is pending).

-- push appends the events to pending and returns their number and
-- whether the list is new.
local function push()
	if #ARGV < 8 then return redis.call('LLEN', P), false end
	local n
	for i = 8, #ARGV, 1000 do -- in chunks: unpack is bounded by the Lua stack
		n = redis.call('RPUSH', P, unpack(ARGV, i, math.min(i + 999, #ARGV)))
	end
	return n, n == #ARGV - 7
end

begin()
local npend, created = push()
local reply
if npend > 0 then
	if reserve(now) then
		local id = ARGV[6]
		local ts, tn = string.match(ARGV[7], '^(%d+) (%d+)$')
		local deadline = add(now, {tonumber(ts), tonumber(tn)})
		local evs = redis.call('LRANGE', P, 0, -1)
		redis.call('HSET', E, id, cmsgpack.pack(evs))
		redis.call('DEL', P)
		npend, created = 0, false
		st.ls[#st.ls + 1] = {id = id, d = deadline}
		reply = {1, deadline[1], deadline[2], 0}
		for _, ev in ipairs(evs) do reply[#reply + 1] = ev end
	else
		local nx = nextAt(now)
		reply = {0, nx[1], nx[2], npend}
	end
else
	reply = {0, 0, 0, 0}
end
save(npend, created)
return reply
