-- Claim: ARGV[2] day, ARGV[3] token, ARGV[4] now ("s.ns"), ARGV[5] until
-- ("s.ns"). Returns 1 claimed, 2 busy, 3 already sent.
local f = redis.call('HMGET', S, 'sent', 'token', 'until')
if f[1] and tonumber(f[1]) >= tonumber(ARGV[2]) then return 3 end
if f[2] and f[2] ~= '' and f[2] ~= ARGV[3] and lt(dec(ARGV[4]), dec(f[3])) then return 2 end
redis.call('HSET', S, 'token', ARGV[3], 'until', ARGV[5])
touch()
return 1
