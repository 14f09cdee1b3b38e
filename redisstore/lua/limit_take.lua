-- Take: append events to pending; if any is pending and the policy allows
-- a send now, hold a slot and move all pending events into a new lease.
-- ARGV[8] lease id, ARGV[9], ARGV[10] lease TTL (seconds, nanoseconds),
-- ARGV[11...] encoded events to append.
-- Returns {1, deadline s, deadline ns, pending, events...} for a lease, or
-- {0, next s, next ns, pending} (next 0, 0 when nothing is pending).
for i = 11, #ARGV do redis.call('RPUSH', P, ARGV[i]) end
local reply
if redis.call('LLEN', P) > 0 then
	if reserve(now) then
		local id = ARGV[8]
		local deadline = add(now, {tonumber(ARGV[9]), tonumber(ARGV[10])})
		local evs = redis.call('LRANGE', P, 0, -1)
		redis.call('HSET', E, id, cmsgpack.pack(evs))
		redis.call('DEL', P)
		st.ls[#st.ls + 1] = {id = id, d = deadline}
		reply = {1, deadline[1], deadline[2], 0}
		for _, ev in ipairs(evs) do reply[#reply + 1] = ev end
	else
		local nx = nextAt(now)
		reply = {0, nx[1], nx[2], redis.call('LLEN', P)}
	end
else
	reply = {0, 0, 0, 0}
end
save()
return reply
