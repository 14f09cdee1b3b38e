-- Commit: ARGV[2] day, ARGV[3] token, ARGV[4] through, ARGV[5] now (Unix
-- seconds), ARGV[6] expire before (Unix seconds), ARGV[7] TTL of the
-- reported keys in milliseconds, ARGV[8...] reported keys.
local removed = tonumber(redis.call('HGET', S, 'removed') or '0')
local through = tonumber(ARGV[4])
if through > removed then
	local n = math.min(through - removed, redis.call('LLEN', P))
	if n > 0 then redis.call('LTRIM', P, n, -1) end
	redis.call('HSET', S, 'removed', string.format('%.0f', removed + n))
end
local now = ARGV[5]
local batch = {}
for i = 8, #ARGV do
	batch[#batch + 1] = now
	batch[#batch + 1] = ARGV[i]
	if #batch >= 1000 then
		redis.call('ZADD', R, 'GT', unpack(batch))
		batch = {}
	end
end
if #batch > 0 then redis.call('ZADD', R, 'GT', unpack(batch)) end
redis.call('ZREMRANGEBYSCORE', R, '-inf', '(' .. ARGV[6])
local sent = redis.call('HGET', S, 'sent')
if not sent or tonumber(ARGV[2]) > tonumber(sent) then redis.call('HSET', S, 'sent', ARGV[2]) end
if redis.call('HGET', S, 'token') == ARGV[3] and ARGV[3] ~= '' then redis.call('HDEL', S, 'token', 'until') end
touch()
redis.call('PEXPIRE', R, ARGV[7])
return 1
