-- Append: ARGV[2...] encoded items, appended in order.
for i = 2, #ARGV, 1000 do
	redis.call('RPUSH', P, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
touch()
return 1
