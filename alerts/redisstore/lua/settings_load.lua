-- Load a tenant's settings and keep them alive.
-- KEYS[1] settings hash {v = version, doc = JSON document}
-- ARGV[1] TTL in milliseconds
-- Returns {version, doc}, or {} when the tenant never saved (or expired).
local r = redis.call('HMGET', KEYS[1], 'v', 'doc')
if not r[1] or not r[2] then
	return {}
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return r
