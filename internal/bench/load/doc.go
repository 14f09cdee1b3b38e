// Package loadbench measures alertmail end to end, as a deployment runs
// it: 4 dispatcher processes (internal/fleettest), each with 16 goroutines
// dispatching events for 10,000 tenants through alerts/redisstore and
// running Dispatcher.Run, inline (Dispatch sends) or async (Dispatch
// queues, Run sends), with a null notifier or smtpnotify sending to a
// go-smtp sink, on one Redis (with a replica) and on a Redis Cluster of 3
// masters and 3 replicas, with durability off and on (WAIT 1 after each
// decision).
//
// It is a module of its own, like internal/bench/redis, so that the SDK's
// test run (.ci/run) does not run it; internal/fleettest's TestSmoke runs
// its setup small there. One benchmark op is one event: run it with a
// fixed count,
//
//	cd internal/bench/load && go test -run '^$' -bench Load -benchtime 20000x -count 2 | tee load.txt
//	benchstat -col /durability load.txt
//
// Besides ns/op (wall time per event, process start included), each
// sub-benchmark reports:
//
//   - events/s: events per second, from the first Dispatch to the last
//     acknowledgement or email (async: what Run sent, not only what
//     Dispatch queued);
//   - p50-ms, p99-ms: the latency of Dispatch;
//   - cmds/event: commands the masters ran per event (INFO commandstats
//     deltas, the commands scripts call included), and scripts/event,
//     the EVALSHA and EVAL among them (round trips);
//   - cpu-ms/1e4ev: CPU time of the masters' redis-server per 10^4 events
//     (INFO cpu deltas, user and system), and replica-cpu-ms/1e4ev, the
//     replicas';
//   - emails/event.
//
// The workers are closed loops (each goroutine dispatches its next event
// when the last returns), so events/s is what the machine sustains with
// the clients on it; cpu-ms/1e4ev is what Redis needs, whatever the
// clients: 10^7 / cpu-ms-per-10^4 is the events per second one Redis core
// takes.
package loadbench
