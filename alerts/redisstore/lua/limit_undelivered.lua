-- Undelivered: the undelivered events KEYS[1], oldest first, left in place.
return redis.call('LRANGE', KEYS[1], 0, -1)
