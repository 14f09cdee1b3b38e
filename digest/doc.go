// Package digest sends each tenant a daily email of its new notifications
// only: events that did not warrant an immediate alert (and events a host
// drains from the limiter's pending list) are collected per tenant, and once
// a day, at a local time in the tenant's time zone, the ones not already
// reported within the retention are grouped by category and asset, with
// repeats of the same day collapsed into one line, and sent through an
// [alerts.Notifier].
//
// # Pieces
//
//   - [Item] is one occurrence of a notification; [ItemOf] makes one from
//     an [alerts.Event]. Its [ItemKey] (a 128-bit hash of asset and
//     fingerprint) is what deduplication remembers.
//   - [Collector] buffers items in memory (Add is a lock and an append) and
//     flushes them to the [Store] in batches. Events drained from the
//     limiter's pending list ([alerts.Dispatcher.Drain]) go in with one
//     call, [Collector.AddEvents]. [Append] is the durable way in: it
//     writes items to the store before it returns.
//   - [Schedule] is a send time of day in an IANA zone; [Schedule.At] gives
//     the send instant of a calendar [Day], correct across daylight-saving
//     changes (see [Schedule] for the rule).
//   - [Mailer] builds and sends the digests that are due, each as the
//     tenant's [Subscription] says: [Mailer.SendDue] for a host's own
//     ticker, [Mailer.Run] for a loop on standard timers. A Mailer is the
//     [alerts.Digester] of a Dispatcher ([Mailer.Digest]): the events under
//     their threshold come to it. With [MailerConfig.Settings] it reads
//     the recipients and the categories that are on from the alert
//     settings, so one save governs alerts and digest; with
//     [MailerConfig.Sender] the sender policy of the alerts chooses the
//     From of every digest too.
//   - [Store] holds the shared state (pending items, reported keys, which
//     day was last sent, the claim of the mailer at work); [MemoryStore] is
//     the in-memory default, and package digest/redisstore shares it between
//     replicas.
//
// # Guarantees
//
// Each pending item is covered by exactly one digest: a mailer first claims
// the tenant's digest with a lease, so two mailers never build it at once;
// it renews the lease just before it hands the email to the notifier, and
// does not send if another mailer has taken it meanwhile; items are marked
// reported only once the notifier has accepted the email, in one atomic
// step of the store; a failed send leaves the items pending for the next
// attempt.
//
// The lease is on the tenant, not on the tenant and date: a tenant's
// pending items are not split by date, so two mailers building two dates
// at once (replicas whose clocks disagree about whether the next send time
// has passed, or one that ran late) would read the same items and both
// report them. With one lease per tenant they take turns, and the date of
// a claim only decides whether a digest is still due (see [Store.Claim]).
//
// The [alerts.Message] ID of a digest is derived from its tenant, its date
// and the notifications it lists, so a retried digest with the same content
// carries the same ID and a backend or gateway can drop a duplicate; a retry
// that gained notifications meanwhile is a different email with a new ID.
// An email may go out twice only when the notifier's answer is lost (it
// accepted the email but reported an error), or when a mailer dies (or
// loses its store) after the notifier accepted the email and before the
// store recorded it: the next attempt, once the lease has run out, sends the
// digest again, under the same ID unless new notifications joined it (or
// the next date's digest fell due meanwhile: the ID carries the date).
// Nothing is ever lost once it is in the store.
//
// Items a [Collector] holds in memory are in the store only after its next
// flush: a process that dies before then loses them. A host that cannot
// afford that adds items with [Append], which returns once the store has
// them.
//
// A notification (asset and fingerprint) reported in a digest is left out
// of later digests for the retention (30 days by default), measured from the
// moment it was reported (seeing it again meanwhile does not extend it);
// after that it may be reported again. The store forgets it then.
//
// Time comes from an [alerts.Clock]; nothing sleeps inside a library call
// but [Mailer.Run], which waits on standard timers (so testing/synctest
// controls it).
package digest
