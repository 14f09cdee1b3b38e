// Package redisstore keeps the state of package alerts on Redis, so that
// many replicas of a service behave as one: at most N alert emails per key
// per cooling period, suppressed events carried and never lost, and
// settings saved with a compare-and-swap. Its [Store] is both the
// [github.com/alertmail/alertmail/alerts.SettingsStore] and the
// [github.com/alertmail/alertmail/alerts.LimitStore] of every replica's
// dispatcher; the digest's store on Redis is in package
// github.com/alertmail/alertmail/digest/redisstore, which uses the same
// key layout and may share the prefix.
//
// Every decision that must hold across replicas is one Lua script, run
// atomically by the server and called by its SHA1 (EVALSHA, with a fallback
// to EVAL when the server does not have it cached). The time the scripts
// use is the time the caller passes in (the store interfaces take it as an
// argument, read from the SDK's
// [github.com/alertmail/alertmail/alerts.Clock] by the dispatcher), never
// Redis's own clock, so a fake clock drives the Redis store exactly as it
// drives the in-memory ones, to the nanosecond. The replicas' clocks must
// therefore be synchronised (NTP), as they are for anything that sends mail
// with a Date header.
//
// # Keys
//
// A tenant's settings key is
//
//	<prefix>:{<tenant>}:<kind>[:<component>...]
//
// and its limiter keys are in one of 256 buckets derived from the tenant
// id (a hash of it, fixed by the key layout):
//
//	<prefix>:{b:<bucket>}:<tenant>:<category>:<kind>
//
// The tenant id (any id [alerts.ValidateTenant] accepts) and every
// component are escaped (bytes outside [A-Za-z0-9._-] become %XX), so that
// no input can hold a separator, a brace, a glob character or a control
// byte: no tenant can name, match or change another tenant's keys. The
// braces delimit the Redis Cluster hash tag: all of a tenant's settings
// keys are in one slot, and so are the limiter keys of all the tenants of
// a bucket, with the bucket's due index (below), so that every script
// touches one slot and works on a cluster. The 256 buckets spread over
// the masters of a cluster as the tenants' own tags did. Every key has a
// TTL, refreshed when it is written, so nothing grows forever. The
// store needs Redis 6.2 or later (ZMSCORE).
//
// This layout replaced one where the limiter keys had the tenant's tag: a
// store of this version does not read limiter keys of that layout, so a
// deployment upgrading drains its pending events first (or lets them
// expire).
//
// # Settings
//
// A tenant's settings are one hash (version and JSON document) under
// "<prefix>:{<tenant>}:settings", and Save is a compare-and-swap on the
// version done by one Lua script, so that of several replicas saving from
// the same version exactly one wins and every other gets an
// *[github.com/alertmail/alertmail/alerts.ConflictError]. The key lives
// [Config.SettingsTTL] after the last Save or Load.
//
// # The limiter
//
// Any number of replicas sending alerts for one key together send at most
// the policy's Max emails per period, and every suppressed event is
// carried once. Each limiter method is one Lua script over the keys of a
// [github.com/alertmail/alertmail/alerts.LimitKey] and its bucket's due
// index, which share one hash slot (<b> the bucket, <t> the tenant, <c>
// the category):
//
//	<prefix>:{b:<b>}:<t>:<c>:lim    the limiter state and the leases
//	<prefix>:{b:<b>}:<t>:<c>:pend   pending events, oldest first
//	<prefix>:{b:<b>}:<t>:<c>:lease  events taken under each lease
//	<prefix>:{b:<b>}:<t>:<c>:undl   undelivered events, oldest first
//	<prefix>:{b:<b>}:<t>:<c>:seen   the IDs of the events the key took
//	<prefix>:{b:<b>}:due            the bucket's due index
//
// and, for ten minutes after a Commit, GiveBack, Undeliver, Drain, Drop or
// Requeue, a record of what that call did,
// <prefix>:{b:<b>}:<t>:<c>:done:<call id>. The undelivered list keeps the
// newest [github.com/alertmail/alertmail/alerts.MaxUndelivered] events
// and lives the key TTL after the last Undeliver, as a pending event does
// after it was appended.
//
// The scripts evaluate the policy as alerts.Limiter does, with the time
// passed in by the caller (the SDK's clock) to the nanosecond, and expire
// leases at their deadline exactly as the in-memory store does: the
// conformance tests of alertstest.TestLimitStore pass on both, and a
// randomized test runs the same steps on both and compares every answer.
// The state also holds the retry time of the last GiveBack (cleared when
// a lease is taken) and the number of failures since the last Commit or
// Undeliver. A decision that only keeps an event for a key in its cooling
// period (no lease out, no failure, no retry time after the cooling)
// changes no state, and runs a fast path that reads one field, checks and
// records the events' IDs and appends the events.
//
// # The due index
//
// Each bucket's due index is a sorted set whose members name the
// bucket's keys ("<t>:<c>", escaped: the ':' is unambiguous) and whose
// scores are their due times in microseconds, rounded up, so that a key
// is never due early. A key's due time is the earliest deadline of its
// leases and, when events are pending, the time the limit next allows a
// send, not before the retry time (see alerts.LimitStore); a key with
// nothing pending and no lease is not in the index. Because the index
// shares the slot of the key's other keys, every script that decides for
// a key updates the index in the same script, atomically with the
// decision: there is no second write, so no crash, timeout or failover
// between two writes can leave the index and the state apart (the fast
// path adds the key when it appends to an empty pending list, at the end
// of the cooling period, and otherwise leaves the due time the full path
// set from the same state).
//
// Due visits all 256 buckets in two round trips of one script per bucket,
// pipelined (on a ClusterClient the pipeline is split per master, so every
// master's buckets are visited): the first counts each bucket's due keys
// and reads its earliest due time; the second claims, from a start bucket
// that rotates at each call, as many keys as are due and fit in max, by
// moving their due time to now plus the claim. Counting first means no
// key is claimed that is not returned. A caller that dies after the claim
// leaves the key due again when the claim ends, and the claimant's next
// step on the key (its Take) sets the due time anew: no due time is lost.
// Due costs one script per bucket whatever the number of keys (a sorted
// set range per bucket), and nothing per idle key.
//
// # Idempotent events
//
// The seen set of a key holds the ID of every event the key took, scored
// +inf while the key holds the event (pending, leased, undelivered) and
// by the end of its dedup window ([Config.DedupWindow], in microseconds,
// rounded up) once the event left it (sent, drained, dropped, discarded
// past the undelivered cap). Each full-path call first removes the IDs
// whose window ended; an event whose ID is left is a duplicate, which
// Take and Queue count and do not append, in the same script as the
// decision. The scripts read the ID from the event's encoding. Events
// without an ID are never duplicates.
//
// # TTLs
//
// A key that holds nothing is deleted (the state is kept, though, while a
// failure count or a retry time waits and the seen set still remembers
// IDs, as the in-memory store keeps such a key). Otherwise its TTL
// follows one rule. Let T be [Config.PendingTTL], raised to the policy's
// period plus the lease TTL plus a minute if it is shorter. Every change
// of state sets the TTL of the state, the pending and the leased events
// to T plus the period (the key TTL), and every other append of the full
// path sets the pending list's; an append of the fast path, which runs
// only within a period of the last change of state, leaves it as it is.
// So a pending event lives at least T after the last call that appended
// it, gave it back or returned it from an expired lease, and a leased
// event lives T plus the period after its lease was taken. The state may
// expire before the pending list, but only once all it held (a cooling
// period, a count, a window, a lease) has ended. The seen set gets the
// key TTL or the dedup window, whichever is longer, whenever the pending
// list gets the key TTL and whenever an ID is added or starts its window:
// it outlives the events it holds, and keeps an ID the window after its
// event left. The due index of a bucket is raised to the key TTL whenever
// a key is put in it, so it outlives every key it holds; a key whose
// state expired leaves its member behind, which falls due, and the
// flush's Take, finding nothing, removes it.
//
// # Errors
//
// A Redis error (server down, timeout, connection cut) is returned to the
// caller as an *[OpError], and nothing is assumed: an event whose decision
// failed was neither sent nor recorded as pending by that call, and must be
// kept by the host and offered again (or handed to the digest). For Take
// this means the events given may or may not be pending: the caller must
// treat them as not sent and offer them again later (they are then pending
// twice at worst, never lost). A lease whose Commit or GiveBack failed
// expires at its deadline and its events come back. Every script checks
// what it needs before it writes, so it runs entirely or not at all.
//
// go-redis itself sends a command again when it lost the reply
// (Options.MaxRetries), so a script may run twice for one call. Every call
// is safe to run twice: Take recognises its own lease id and answers the
// lease the first run took (it neither loses the events that lease carried
// nor holds a second slot); Commit, GiveBack, Undeliver, Drain, Drop and
// Requeue leave a record for ten minutes that the second run answers from
// (the drained events, not nothing; a failure counted once). The one
// effect left is that of a Take or Queue that appended its events: the
// second run finds their IDs taken and reports them as duplicates (they
// are pending once), and appends events without an ID again (pending
// twice, never lost). A Due whose reply was lost leaves the keys it
// claimed due again when the claim ends. A host should log the error, retry with backoff, and alert
// its operators when Redis stays unreachable; it should not fall back to
// an in-memory store, which would let each replica send its own N emails.
//
// # Durability and failover
//
// Redis replicates asynchronously: a master answers a script before its
// replicas have it, and a master that dies in that window (the
// replication lag: well under a millisecond on one host or a LAN, a few
// across zones) takes the decision with it when a replica takes over.
// Without [Config.Durability], a failover can undo, decision by decision:
//
//   - a Take or Queue that kept its events (suppressed, queued): they
//     are lost, though the dispatcher reported them pending, and so are
//     their IDs (a redelivery is taken as new). This is the one way an
//     acknowledged event is lost.
//   - a Take that took a lease: its email goes out, but the new master
//     holds neither the lease nor its slot. The events that were pending
//     before the Take are sent again in a later email (under another
//     Message-ID if its events differ), and the key may send one email
//     more than Max in that period for each lease lost.
//   - a Commit: the lease is back; at its deadline its events are pending
//     again and are sent again (under the same Message-ID unless new
//     events joined them). The slot counts as used from the deadline, so
//     the limit holds.
//   - a Save: the previous settings are back.
//   - a GiveBack, Undeliver, Drain, Drop, Requeue or Due: work is
//     repeated, nothing is lost or sent beyond the limit (a lease comes
//     back and expires; drained or dropped events are pending again, to
//     be drained or dropped again; undelivered events stay undelivered; a
//     claimed key is due again; the due index is in the same scripts as
//     the state, so the two are never apart).
//
// With Durability{Replicas: n}, Take, Queue, Commit and Save send the
// script and WAIT n in one pipeline (WAIT counts the writes of its own
// connection; on a cluster, to the master of the key's slot) and return
// once n replicas hold the decision, so a failover to one of them keeps
// it: none of the above for those four. WAIT is not a consensus: a failover to a
// replica that had not acknowledged (a master with more replicas than n)
// can still lose it, though Redis Cluster elects the most up-to-date
// replica first.
//
// When fewer than n replicas acknowledge within the timeout, the call
// returns a *[ReplicationError] (wrapping [ErrNotReplicated]) naming the
// operation. The decision stands on the master, where it holds unless a
// failover undoes it as above, and the caller assumes:
//
//   - Take or Queue: the events were not recorded (Dispatch returns the
//     error; the host offers them again later). They are pending on the
//     master, where an event offered again is a duplicate if it has an ID
//     (pending twice if not); a failover that loses them takes it anew:
//     never lost. The lease the Take took, if any, is given back at once
//     (without waiting; the key falls due again after the timeout), so no
//     email is sent on it and no slot is spent.
//   - Commit: the email was sent but may not be recorded: the dispatcher
//     reports it so, and it may be sent again at the lease's deadline, as
//     after any failed Commit.
//   - Save: the settings are saved on the master and may revert in a
//     failover. A retry from the old version is a ConflictError: Load
//     shows which holds.
//
// The cost is one replica round trip per Take, Queue and Commit, with the
// connection held meanwhile. Measured with the replica on the same host
// (BenchmarkTake in internal/bench/load, benchstat of 6 runs): a
// held-back Take from one client 135 → 163 µs (+21%), a send's Take and
// Commit 357 → 498 µs (+40%); end to end, 2-3 more commands per event and
// 3-22% more master CPU (the README's scale model). Across zones, add the
// replica's round trip to each. And it trades availability for safety, as Redis's
// min-replicas-to-write does: while a master has fewer than n replicas
// online (a replica down, a shard just failed over and not yet given a
// new replica), every Take, Queue, Commit and Save of its keys waits the
// timeout and fails. Run two replicas per master to wait for one through
// a failover.
//
// The store is safe for concurrent use.
package redisstore
