package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redisscript"
)

// A Durability asks the store to wait, after each decision the dispatcher
// acts on (Take, Queue, Commit, Save), until Replicas replicas of the Redis
// master acknowledge it (WAIT), for at most Timeout (default one second;
// shorter than the client's ReadTimeout). The zero value waits for none.
// See [Config.Durability]. It is the same type as digest/redisstore's
// Durability.
type Durability = redisscript.Durability

// ErrNotReplicated is wrapped by a *[ReplicationError].
var ErrNotReplicated = redisscript.ErrNotReplicated

// A ReplicationError reports a decision that ran on the Redis master but
// that fewer replicas than [Durability] asks for acknowledged in time. Its
// fields are Op (the store operation: "limiter take", "limiter queue",
// "limiter commit", "settings save"), Acked, Want and Timeout; it wraps [ErrNotReplicated].
// What stands on the master, and what the caller should assume, is in
// "Durability and failover" in the package documentation. It is the same
// type as digest/redisstore's ReplicationError.
type ReplicationError = redisscript.ReplicationError

// unreplicated gives back the lease that a Take whose reply is r took, if
// err says that the replicas did not acknowledge it: the dispatcher does
// not send on it, so the slot it holds is released and its events are
// pending again at once, rather than at its deadline with the slot
// charged; the key falls due again a wait's timeout later. The give-back
// does not wait for the replicas; if it fails, the lease expires at its
// deadline.
func (s *Store) unreplicated(ctx context.Context, r redisscript.Reply, err error, key alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, lease string) {
	re, ok := errors.AsType[*ReplicationError](err)
	if !ok {
		return
	}
	if g, err := decodeGrant(r, key, lease); err == nil && g.Lease != "" {
		// Due again once the replicas have had as long again.
		s.endLease(context.WithoutCancel(ctx), "limiter give back", key, p, g.Lease, now, now.Add(re.Timeout), endNotSent)
	}
}
