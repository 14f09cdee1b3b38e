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
// Every key is
//
//	<prefix>:{<tenant>}:<kind>[:<component>...]
//
// The tenant id (any id [alerts.ValidateTenant] accepts) and every
// component are escaped (bytes outside
// [A-Za-z0-9._-] become %XX), so that no input can hold a separator, a
// brace, a glob character or a control byte: no tenant can name, match or
// change another tenant's keys. The braces make the tenant the Redis
// Cluster hash tag, so all of a tenant's keys are in one slot and the
// scripts work on a cluster. Every key has a TTL, refreshed when it is
// written, so nothing grows forever.
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
// carried once. Each limiter method is one Lua script over the three keys
// of a [github.com/alertmail/alertmail/alerts.LimitKey], which share the
// tenant's hash slot:
//
//	<prefix>:{<tenant>}:lim:<category>   the limiter state and the leases
//	<prefix>:{<tenant>}:pend:<category>  pending events, oldest first
//	<prefix>:{<tenant>}:lease:<category> events taken under each lease
//	<prefix>:{<tenant>}:undl:<category>  undelivered events, oldest first
//
// and, for ten minutes after a Commit, GiveBack, Undeliver, Drain, Drop or
// Requeue, a record of what that call did,
// <prefix>:{<tenant>}:done:<category>:<call id>. The undelivered list
// keeps the newest [github.com/alertmail/alertmail/alerts.MaxUndelivered]
// events and lives the key TTL after the last Undeliver, as a pending
// event does after it was appended.
//
// The scripts evaluate the policy as alerts.Limiter does, with the time
// passed in by the caller (the SDK's clock) to the nanosecond, and expire
// leases at their deadline exactly as the in-memory store does: the
// conformance tests of alertstest.TestLimitStore pass on both. A decision
// that only keeps an event for a key in its cooling period changes no
// state, and runs a fast path that reads one field and appends the event.
//
// A key that holds nothing is deleted. Otherwise its TTL follows one rule.
// Let T be [Config.PendingTTL], raised to the policy's period plus the lease
// TTL plus a minute if it is shorter. Every change of state sets the TTL
// of all three keys to T plus the period (the key TTL), and every other
// append of the full path sets the pending list's; an append of the fast
// path, which runs only within a period of the last change of state,
// leaves it as it is. So a pending event lives at least T after the last
// call that appended it, gave it back or returned it from an expired
// lease, and a leased event lives T plus the period after its lease was
// taken. The state may expire before the pending list, but only once all
// it held (a cooling period, a count, a window, a lease) has ended.
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
// nor holds a second slot); Commit, GiveBack, Drain and Drop leave a record
// for ten minutes that the second run answers from (the drained events,
// not nothing). The one effect left is that of a Take that was suppressed:
// the second run appends its events again, so they are pending twice,
// never lost. A host should log the error, retry with backoff, and alert
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
//   - a Take that kept its events (suppressed): they are lost, though
//     the dispatcher reported them pending. This is the one way an
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
//   - a GiveBack, Undeliver, Drain, Drop or Requeue: work is repeated,
//     nothing is lost or sent beyond the limit (a lease comes back and
//     expires; drained or dropped events are pending again, to be drained
//     or dropped again; undelivered events stay undelivered).
//
// With Durability{Replicas: n}, Take, Commit and Save send the script and
// WAIT n in one pipeline (WAIT counts the writes of its own connection; on
// a cluster, to the master of the tenant's slot) and return once n
// replicas hold the decision, so a failover to one of them keeps it: none
// of the above for those three. WAIT is not a consensus: a failover to a
// replica that had not acknowledged (a master with more replicas than n)
// can still lose it, though Redis Cluster elects the most up-to-date
// replica first.
//
// When fewer than n replicas acknowledge within the timeout, the call
// returns a *[ReplicationError] (wrapping [ErrNotReplicated]) naming the
// operation. The decision stands on the master, where it holds unless a
// failover undoes it as above, and the caller assumes:
//
//   - Take: the events were not recorded (Dispatch returns the error; the
//     host offers them again later). They are pending on the master, so
//     they may be pending twice, never lost. The lease the Take took, if
//     any, is given back at once (without waiting), so no email is sent on
//     it and no slot is spent.
//   - Commit: the email was sent but may not be recorded: the dispatcher
//     reports it so, and it may be sent again at the lease's deadline, as
//     after any failed Commit.
//   - Save: the settings are saved on the master and may revert in a
//     failover. A retry from the old version is a ConflictError: Load
//     shows which holds.
//
// The cost is one replica round trip per Take and Commit (see the README's
// scale model for measured figures), with the connection held meanwhile.
// And it trades availability for safety, as Redis's min-replicas-to-write
// does: while a master has fewer than n replicas online (a replica down,
// a shard just failed over and not yet given a new replica), every Take,
// Commit and Save of its tenants waits the timeout and fails.
//
// The store is safe for concurrent use.
package redisstore
