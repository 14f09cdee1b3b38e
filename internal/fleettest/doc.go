// Package fleettest runs a fleet of dispatcher processes against one Redis
// deployment (a single server or a Redis Cluster), for the failover test
// and the end-to-end load benchmark of issue 20: what replicas of a host
// service do, each in its own process with its own connections, sharing
// only Redis.
//
// A test (or benchmark) binary is its own worker: its TestMain calls
// [Main] first, and [Start] runs the binary again, once per worker, with
// the worker's [Config] in the environment. Each worker dispatches its
// share of the events through a [github.com/alertmail/alertmail/alerts.Dispatcher]
// on [github.com/alertmail/alertmail/alerts/redisstore], retries a
// Dispatch that fails as a host does (the event is offered again until it
// is acknowledged), runs Dispatcher.Run (which sends what the frequency
// limit held back when it falls due), and writes what it did to a file: the events acknowledged, with the
// latency of each Dispatch, and the emails sent. [Fleet.Wait] reads the
// files back into a [Report]: events, emails, events lost, events in two
// emails, the most emails of a key in one window, latencies.
//
// It is for tests only: it starts processes, writes files and panics on
// misuse.
package fleettest
