// Package redistest runs a real redis-server for tests, in the style of
// net/http/httptest: [Start] launches one on a free loopback port and stops
// it when the test ends, and [New] reuses the server named by the
// environment variable ALERTMAIL_REDIS_ADDR (the one .ci/run starts) when it
// is set, giving each test a key prefix of its own.
//
// [StartReplicatedCluster] and [SharedCluster] run a Redis Cluster of three
// masters with a replica each, for tests that must see keys spread over
// shards.
//
// The tests of alerts/redisstore and digest/redisstore and the benchmarks
// under internal/bench/redis use it. When redis-server (or, for a cluster,
// redis-cli) is not installed a test is skipped with a clear message,
// unless the environment variable CI is "true", in which case it fails.
package redistest
