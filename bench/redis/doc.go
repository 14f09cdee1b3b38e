// Package redisbench measures the Redis limiter of redisstore against raw
// EVALSHA of the same script (redis-benchmark) and against the Redis rate
// limiters Go services use today, github.com/go-redis/redis_rate/v10 and
// github.com/ulule/limiter/v3, all on one redis-server in one run.
//
// It is a module of its own, so that the SDK does not depend on the peers.
// Run it with
//
//	cd bench/redis && go test -run '^$' -bench . -benchtime 200000x
//
// It uses the server named by ALERTMAIL_REDIS_ADDR, or starts one.
package redisbench
