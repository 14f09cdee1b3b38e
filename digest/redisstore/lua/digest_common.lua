-- The digest state of one tenant, shared by the digest scripts.
-- KEYS[1] state hash: removed (items removed so far), sent (last Day sent),
--         token and until (the lease; until is "seconds.nanoseconds")
-- KEYS[2] pending items: a list, oldest first, of encoded items
-- KEYS[3] reported keys: a sorted set, member the 16-byte key, score the
--         Unix second it was last reported
-- ARGV[1] key TTL in milliseconds; further arguments are the operation's.
-- The times (lt, dec) are those of internal/redisscript/lua/time.lua,
-- which comes before this file in every digest script.
local S, P, R = KEYS[1], KEYS[2], KEYS[3]
-- touch renews the TTL of the state and the pending items (the reported
-- keys get theirs, at least the retention, from Commit).
local function touch()
	redis.call('PEXPIRE', S, ARGV[1])
	redis.call('PEXPIRE', P, ARGV[1])
end
