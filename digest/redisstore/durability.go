package redisstore

import "github.com/alertmail/alertmail/internal/redisscript"

// A Durability asks the store to wait, after each decision the digest
// mailer acts on (Append, Claim, Commit), until Replicas replicas of the
// Redis master acknowledge it (WAIT), for at most Timeout (default one
// second; shorter than the client's ReadTimeout). The zero value waits
// for none. See [Config.Durability]. It is the same type as
// alerts/redisstore's Durability.
type Durability = redisscript.Durability

// ErrNotReplicated is wrapped by a *[ReplicationError].
var ErrNotReplicated = redisscript.ErrNotReplicated

// A ReplicationError reports a decision that ran on the Redis master but
// that fewer replicas than [Durability] asks for acknowledged in time. Its
// fields are Op (the store operation: "digest append", "digest claim",
// "digest commit"), Acked, Want and Timeout; it wraps [ErrNotReplicated].
// What stands on the master, and what the caller should assume, is in
// "Durability and failover" in the package documentation. It is the same
// type as alerts/redisstore's ReplicationError.
type ReplicationError = redisscript.ReplicationError
