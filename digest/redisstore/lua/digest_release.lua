-- Release: ARGV[2] token. Ends the lease if token holds it.
if ARGV[2] ~= '' and redis.call('HGET', S, 'token') == ARGV[2] then
	redis.call('HDEL', S, 'token', 'until')
end
return 1
