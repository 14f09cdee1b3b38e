// Package redisstore keeps the state of the daily digest (package
// github.com/alertmail/alertmail/digest) on Redis, so that many replicas of
// a service send each tenant's digest once and report each item once: its
// [Store] is the [github.com/alertmail/alertmail/digest.Store] of every
// replica's digest mailer. The alerts' stores on Redis are in package
// github.com/alertmail/alertmail/alerts/redisstore, which uses the same key
// layout and may share the prefix.
//
// Every decision that must hold across replicas (claiming a day, committing
// what was sent) is one Lua script, run atomically by the server and called
// by its SHA1 (EVALSHA, with a fallback to EVAL when the server does not
// have it cached). The time the scripts use is the time the caller passes
// in (read from the SDK's clock by the digest mailer), never Redis's own
// clock, so a fake clock drives the Redis store exactly as it drives the
// in-memory one.
//
// # Keys
//
// Every key is "<prefix>:{<tenant>}:dg:<kind>". The tenant id is escaped
// (bytes outside [A-Za-z0-9._-] become %XX), so that no input can hold a
// separator, a brace, a glob character or a control byte: no tenant can
// name, match or change another tenant's keys. The braces make the tenant
// the Redis Cluster hash tag, so all of a tenant's keys are in one slot
// and the scripts work on a cluster. Every key has a TTL, refreshed when it
// is written, so nothing grows forever.
//
// # Errors
//
// A Redis error (server down, timeout, connection cut) is returned to the
// caller as an *[OpError], and nothing is assumed. Every script checks what
// it needs before it writes, so it runs entirely or not at all; a call
// whose reply was lost may have happened. Commit is idempotent, claiming
// again with the token that holds the lease renews it, and an Append made
// twice appends its items twice (the digest lists an item key once). A
// host should log the error and retry with backoff; it should not fall
// back to an in-memory store, which would let each replica send its own
// digest.
//
// The store is safe for concurrent use.
package redisstore
