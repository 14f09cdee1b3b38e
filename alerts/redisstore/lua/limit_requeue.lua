-- Requeue: move the undelivered events KEYS[7] to the front of pending, in
-- their order (their IDs stay held). ARGV[6] the TTL in milliseconds of
-- the record KEYS[6] of this call, named by an id new for every call.
-- Returns how many moved.
--
-- The record holds that number, so that a second run of the same call
-- (go-redis sends a command again when it lost the reply) answers it
-- instead of 0.
begin()
local U = KEYS[7]
local n = redis.call('GET', KEYS[6])
if n then
	n = tonumber(n)
else
	local evs = redis.call('LRANGE', U, 0, -1)
	n = #evs
	if n > 0 then
		prepend(evs)
		redis.call('DEL', U)
		redis.call('SET', KEYS[6], n, 'PX', ARGV[6])
	end
end
save(nil, n > 0)
return n
