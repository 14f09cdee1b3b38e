// Package redisbench measures the Redis limiter of alerts/redisstore
// against raw EVALSHA of the same script (redis-benchmark) and against the
// Redis rate limiters Go services use today,
// github.com/go-redis/redis_rate/v10 and github.com/ulule/limiter/v3, all
// on one redis-server in one run.
//
// It is a module of its own, so that the SDK does not depend on the peers.
// Run it with
//
//	cd internal/bench/redis && go test -run '^$' -bench . -benchtime 200000x
//
// It uses the server named by ALERTMAIL_REDIS_ADDR, or starts one.
//
// # What differs between the contenders
//
// Each call is one decision, but the decisions are not the same:
//
//   - redisstore (alertmail) applies "N emails, then a cooling period" from
//     the N-th send, keeps every event of a suppressed decision as pending
//     (an RPUSH of the encoded event) so that the next allowed email carries
//     it, holds slots under leases that expire, and takes the time from the
//     caller (the SDK's clock) to the nanosecond. The benchmarked key is in
//     its cooling period, so every call appends its event and answers when
//     the next email may go.
//   - redis_rate applies GCRA (a leaky bucket): 5 per 4 hours with a burst
//     of 5 refills one slot every 48 minutes instead of cooling 4 hours; it
//     reads the server's clock (TIME) and keeps one number per key; a
//     denied call leaves no trace.
//   - ulule/limiter counts hits in a fixed window that starts at the first
//     hit (INCRBY with an expiry); it reads the host's clock for the reset
//     time and keeps one counter per key; a denied call only counts.
//
// Neither peer keeps what it denied, which is the part of alertmail's
// decision that costs the most on the server; alertmail-no-event shows
// the decision without it.
package redisbench
