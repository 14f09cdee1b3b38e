-- Compare-and-swap a tenant's settings on their version.
-- KEYS[1] settings hash {v = version, doc = JSON document}
-- ARGV[1] the version the save is based on ("0": never saved)
-- ARGV[2] the new version (ARGV[1] + 1, computed by the caller in uint64)
-- ARGV[3] the JSON document of the new settings
-- ARGV[4] TTL in milliseconds
-- Returns {1, new version} when stored, {0, current version} on conflict.
-- Versions are compared as strings so that no uint64 passes through a Lua
-- number.
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if cur ~= ARGV[1] then
	return {0, cur}
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'doc', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, ARGV[2]}
