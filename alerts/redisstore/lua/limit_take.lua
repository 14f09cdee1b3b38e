-- Take and Queue: append the events that are not duplicates to pending;
-- then, for Take, if any event is pending and the policy allows a send
-- now, hold a slot and move all pending events into a new lease, unless
-- every event of the call was a duplicate (a redelivery triggers no
-- email). ARGV[6] lease id ('' for Queue: never lease), ARGV[7] lease TTL
-- ("seconds nanoseconds"), ARGV[8...] encoded events to append.
-- Returns {1, deadline s, deadline ns, pending, duplicates, failures,
-- events...} for a lease, or {0, next s, next ns, pending, duplicates,
-- failures} (next 0, 0 when nothing is pending).

begin()
-- The lease id is new for every call of Take, so a lease that already has
-- it means this very call ran before: the client lost the reply and sent
-- the call again (go-redis retries a command after a connection error or
-- a read timeout). Running it twice would append the events again, hold a
-- second slot and overwrite the lease's events with the new copies,
-- losing the events it carried; answer the first run's lease instead.
for _, l in ipairs(st.ls) do
	if l.id == ARGV[6] then
		local reply = {1, l.d[1], l.d[2], redis.call('LLEN', P), 0, st.fl}
		for _, ev in ipairs(leaseEvents(l.id)) do reply[#reply + 1] = ev end
		save()
		return reply
	end
end
local fresh, dups = admit(8)
local npend
for i = 1, #fresh, 1000 do -- in chunks: unpack is bounded by the Lua stack
	npend = redis.call('RPUSH', P, unpack(fresh, i, math.min(i + 999, #fresh)))
end
npend = npend or redis.call('LLEN', P)
local lease = ARGV[6] ~= '' and (#ARGV < 8 or #fresh > 0)
local reply
if npend > 0 then
	if lease and reserve(now) then
		local id = ARGV[6]
		local ts, tn = string.match(ARGV[7], '^(%d+) (%d+)$')
		local deadline = add(now, {tonumber(ts), tonumber(tn)})
		local evs = redis.call('LRANGE', P, 0, -1)
		redis.call('HSET', E, id, cmsgpack.pack(evs))
		redis.call('DEL', P)
		npend = 0
		st.ls[#st.ls + 1] = {id = id, d = deadline}
		st.r = nil
		reply = {1, deadline[1], deadline[2], 0, dups, st.fl}
		for _, ev in ipairs(evs) do reply[#reply + 1] = ev end
	else
		local nx = nextAt(now)
		if st.r and lt(nx, st.r) then nx = st.r end
		reply = {0, nx[1], nx[2], npend, dups, st.fl}
	end
else
	reply = {0, 0, 0, 0, dups, st.fl}
end
save(npend, #fresh > 0)
return reply
