-- Pending: returns {removed, items...}.
local removed = redis.call('HGET', S, 'removed') or '0'
local reply = redis.call('LRANGE', P, 0, -1)
table.insert(reply, 1, removed)
return reply
