package digest

import (
	"context"
	"strconv"
	"time"
)

// A Store holds the digest state of every tenant, shared by all the mailers
// and collectors that use it:
//
//   - the pending items, in the order they were appended, each numbered
//     from 1 per tenant (numbers are never reused, even after items are
//     removed);
//   - the reported keys, each with the time it was last reported;
//   - the last Day whose digest was sent (or found empty);
//   - the lease of the mailer currently building the tenant's digest: a
//     token and the time it runs out.
//
// [MemoryStore] is the in-memory implementation; package digest/redisstore
// shares the state between replicas. Claim, Commit and Release are each one
// atomic step of the store (a Lua script on Redis), never a read followed by
// a write from the client. Every time the store compares or records comes in
// as an argument, read from the SDK's [alerts.Clock], never from the store's
// own clock. Tenant ids follow the rule of [alerts.ValidateTenant]: every
// method refuses any other id with its error (wrapping
// [alerts.ErrInvalidTenant]) and does nothing. Within the rule they are
// opaque strings (key separators, braces and glob characters included),
// and one tenant's calls never read or change another tenant's state.
//
// Implementations must be safe for concurrent use. The shared conformance
// tests are in package digesttest (digesttest.TestStore).
//
// # On a shared database
//
// One way to lay the state out in Redis, per tenant (all keys of a tenant in
// one hash slot, under a hash tag built from an encoding of the tenant id):
// the pending items as a list, with a counter of the items ever removed
// from its head (so Through is absolute and Commit can trim exactly the
// first Through minus that counter, which makes it idempotent); the
// reported keys as a sorted set, member the 16 key bytes and score the
// report time in Unix seconds (Reported is ZMSCORE; Commit is ZADD GT plus
// ZREMRANGEBYSCORE below ExpireBefore); and a hash with the last Day sent,
// the lease token and the lease end in Unix milliseconds. Claim, Commit and
// Release are then one Lua script each, reading the times from their
// arguments. Every key can carry a TTL of the retention past the last
// commit, since state older than that is worth nothing.
type Store interface {
	// Append adds items to the end of tenant's pending list, in order. It
	// is atomic: either all items are appended or, with an error, none. It
	// must not keep items after it returns: the caller reuses the slice.
	Append(ctx context.Context, tenant string, items []Item) error

	// Claim tries to take the lease on tenant's digest for c.Day, in one
	// atomic step:
	//
	//   - if the last Day sent is c.Day or later, it returns AlreadySent;
	//   - else if a lease is held with another token and runs out after
	//     c.Now, it returns Busy, whatever Day that lease was taken for;
	//   - else it records the lease (c.Token, running out at c.Until) and
	//     returns Claimed. Claiming again with the token that holds the
	//     lease renews it.
	//
	// There is one lease per tenant, not one per tenant and Day: every
	// digest of a tenant reads the same pending items, so mailers of two
	// different days must not build at once either.
	Claim(ctx context.Context, tenant string, c Claim) (ClaimStatus, error)

	// Pending returns tenant's pending items in the order they were
	// appended, and the number of the last one (when there are none, the
	// number of the last item ever removed, or 0). The caller must not
	// modify the returned slice's elements.
	Pending(ctx context.Context, tenant string) (items []Item, through uint64, err error)

	// Reported reports, for each key, whether it was reported at or after
	// since. The result has the length of keys.
	Reported(ctx context.Context, tenant string, keys []ItemKey, since time.Time) ([]bool, error)

	// Commit records a digest as done, in one atomic step (see [Commit]).
	// It is idempotent: committing the same Commit twice leaves the same
	// state as once. It succeeds whether or not c.Token still holds the
	// lease: the email went out, and the state must say so.
	Commit(ctx context.Context, tenant string, c Commit) error

	// Release ends the lease on tenant's digest if token holds it, in one
	// atomic step, so that another attempt need not wait for it to run
	// out. Releasing a lease that is not held by token does nothing.
	Release(ctx context.Context, tenant, token string) error
}

// A Claim asks a [Store] for the lease on a tenant's digest of one day. It
// is a plain value; every field must be set.
type Claim struct {
	// Day is the date of the digest.
	Day Day
	// Token identifies the attempt; each attempt uses a new random token.
	Token string
	// Now is the current time, from the SDK's clock.
	Now time.Time
	// Until is when the lease runs out if not committed or released.
	Until time.Time
}

// A Commit records that a tenant's digest of one day is done (sent, or
// found empty). It is a plain value. The store applies it in one atomic
// step:
//
//  1. remove the pending items numbered Through or less;
//  2. record every key of Reported as reported at Now (replacing an older
//     time);
//  3. forget the keys reported before ExpireBefore (the retention is over);
//  4. set the last Day sent to Day, unless it is already later;
//  5. end the lease if Token holds it.
type Commit struct {
	// Day is the date of the digest.
	Day Day
	// Token is the claim's token.
	Token string
	// Through is the number of the last pending item the digest covered,
	// as returned by [Store.Pending].
	Through uint64
	// Reported holds the keys of the notifications the digest reported.
	Reported []ItemKey
	// Now is the current time, from the SDK's clock.
	Now time.Time
	// ExpireBefore is Now minus the retention.
	ExpireBefore time.Time
}

// ClaimStatus is the outcome of [Store.Claim]. Its zero value is none of
// the outcomes; a store never returns it without an error.
type ClaimStatus int

// The outcomes of a claim.
const (
	// Claimed means the caller holds the lease and may build and send the
	// digest.
	Claimed ClaimStatus = iota + 1
	// Busy means another mailer holds a lease that has not run out.
	Busy
	// AlreadySent means the digest of that day (or a later one) is done.
	AlreadySent
)

// String returns "claimed", "busy" or "already-sent".
func (s ClaimStatus) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Busy:
		return "busy"
	case AlreadySent:
		return "already-sent"
	}
	return "ClaimStatus(" + strconv.Itoa(int(s)) + ")"
}
