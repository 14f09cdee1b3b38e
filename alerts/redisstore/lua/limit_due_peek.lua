-- Due, first step, for one bucket: the number of keys of the bucket's due
-- index KEYS[1] that are due at ARGV[1] (microseconds), and the earliest
-- due time of the index ('' when it is empty). Due reads every bucket
-- this way before it claims, so that it claims no more keys than it
-- returns.
local n = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {n, first[2] or ''}
