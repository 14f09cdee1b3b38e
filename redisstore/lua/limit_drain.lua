-- Drain or Drop: remove the pending events. ARGV[6] "1" to return them
-- (Drain), "0" to return only how many there were (Drop).
begin()
local reply
if ARGV[6] == '1' then
	reply = redis.call('LRANGE', P, 0, -1)
else
	reply = redis.call('LLEN', P)
end
redis.call('DEL', P)
save()
return reply
