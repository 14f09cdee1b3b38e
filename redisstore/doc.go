// Package redisstore keeps the SDK's shared state on Redis, so that many
// replicas of a service behave as one: at most N alert emails per key per
// cooling period, suppressed events carried and never lost, each digest
// item reported once, and settings saved with a compare-and-swap.
//
// It implements the store interfaces of package alerts and package digest.
// Every decision that must hold across replicas is one Lua script, run
// atomically by the server and called by its SHA1 (EVALSHA, with a fallback
// to EVAL when the server does not have it cached). The time the scripts
// use is the time the caller passes in (the store interfaces take it as an
// argument, read from the SDK's
// [github.com/alertmail/alertmail/alerts.Clock] by the dispatcher and the
// digest sender), never Redis's own clock, so a fake clock drives the Redis
// stores exactly as it drives the in-memory ones, to the nanosecond. The
// replicas' clocks must therefore be synchronised (NTP), as they are for
// anything that sends mail with a Date header.
//
// # Keys
//
// Every key is
//
//	<prefix>:{<tenant>}:<kind>[:<component>...]
//
// The tenant id and every component are escaped (bytes outside
// [A-Za-z0-9._-] become %XX), so that no input can hold a separator, a
// brace, a glob character or a control byte: no tenant can name, match or
// change another tenant's keys. The braces make the tenant the Redis
// Cluster hash tag, so all of a tenant's keys are in one slot and the
// scripts work on a cluster. Every key has a TTL, refreshed when it is
// written, so nothing grows forever.
//
// # Errors
//
// A Redis error (server down, timeout, connection cut) is returned to the
// caller, wrapped, and nothing is assumed: an event whose decision failed
// was neither sent nor recorded as pending by that call, and must be kept
// by the host and offered again (or handed to the digest). Every script
// checks what it needs before it writes, so it runs entirely or not at
// all; a call whose reply was lost may have happened, which is why taken
// events sit under a lease and come back when it expires rather than
// being deleted. go-redis itself sends a command again when it lost the
// reply (Options.MaxRetries); the limiter's scripts recognise a second run
// of the same call and answer what the first did (see [LimitStore]). A host should log the error, retry with backoff, and alert
// its operators when Redis stays unreachable; it should not fall back to an
// in-memory store, which would let each replica send its own N emails.
//
// The stores are safe for concurrent use.
package redisstore
