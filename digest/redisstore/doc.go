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
// # Durability and failover
//
// Redis replicates asynchronously: a master answers a script before its
// replicas have it, and a master that dies in that window takes the
// decision with it when a replica takes over. Without [Config.Durability],
// a failover can undo an Append (its items are lost, though the caller was
// told they were kept), a Claim (another mailer may claim and send the
// same digest) or a Commit (the day's digest may be sent again, and its
// items reported again in the next one); undoing a Release only delays
// the next attempt.
//
// With Durability{Replicas: n}, Append, Claim and Commit send the script
// and WAIT n in one pipeline (on a cluster, to the master of the tenant's
// slot) and return once n replicas hold the decision, so a failover to one
// of them keeps it. When fewer acknowledge within the timeout the call
// returns a *[ReplicationError] (wrapping [ErrNotReplicated]) naming the
// operation, and the decision stands on the master: an Append's items are
// pending there (appending them again lists them once in the digest); a
// Claim's lease holds until it runs out, is claimed again with its token,
// or released; a Commit holds, and committing again is safe. The cost and
// the trade (every decision of a master with fewer than n replicas online
// waits the timeout and fails) are those of alerts/redisstore's
// Durability, described in its package documentation.
//
// The store is safe for concurrent use.
package redisstore
