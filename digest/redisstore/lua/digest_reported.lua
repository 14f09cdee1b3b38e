-- Reported: ARGV[2...] keys. Returns their report times (Unix seconds) or
-- false for keys never reported (or forgotten).
return redis.call('ZMSCORE', R, unpack(ARGV, 2))
