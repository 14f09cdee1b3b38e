package redisscript

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/internal/rediskey"
)

// ErrNoClient means a store's Config.Client is nil.
var ErrNoClient = errors.New("redisstore: Config.Client is nil")

// A Conn is what every Redis store of the SDK runs its scripts with: the
// client and the key layout of its prefix. Make one with [Connect]; the
// zero Conn is not usable. It is safe for concurrent use.
type Conn struct {
	client redis.Scripter
	// Keys lays out the store's keys.
	Keys rediskey.Space
	// durability is what Decide waits for (see WithDurability).
	durability Durability
}

// Connect checks a store's Config.Client (not nil) and Config.Prefix (see
// [rediskey.NewSpace]) and returns them as a Conn. It does no I/O.
func Connect(client redis.Scripter, prefix string) (Conn, error) {
	if client == nil {
		return Conn{}, ErrNoClient
	}
	keys, err := rediskey.NewSpace(prefix)
	if err != nil {
		return Conn{}, err
	}
	return Conn{client: client, Keys: keys}, nil
}

// Run runs script with keys and args, by SHA1 first and by source when the
// server does not have it (NOSCRIPT: a restarted or flushed server:
// [redis.Script.Run]), and wraps a failure as an *[OpError] naming op, the
// store operation ("limiter take").
func (c Conn) Run(ctx context.Context, op string, script *redis.Script, keys []string, args ...any) (Reply, error) {
	v, err := script.Run(ctx, c.client, keys, args...).Result()
	if err != nil {
		return Reply{}, &OpError{Op: op, Err: err}
	}
	return Reply{op: op, v: v}, nil
}

// TTL returns a store's Config field d, or def when d is zero, and refuses
// a TTL of less than a millisecond, the unit of PEXPIRE, naming the field.
func TTL(field string, d, def time.Duration) (time.Duration, error) {
	if d == 0 {
		d = def
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("redisstore: Config.%s %v is less than a millisecond", field, d)
	}
	return d, nil
}

// Millis returns d in the integer milliseconds of PEXPIRE.
func Millis(d time.Duration) int64 { return d.Milliseconds() }

// An OpError reports a Redis operation that failed: the server was
// unreachable, timed out, or refused the command. The operation may or may
// not have taken effect if the reply was lost; see the documentation of
// the store for what a host should do.
type OpError struct {
	// Op names the store operation ("settings save", "limiter take").
	Op string
	// Err is the error of the Redis client.
	Err error
}

// Error names the operation and the client's error, in the form
// "redisstore: <op>: <client error>".
func (e *OpError) Error() string { return "redisstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the Redis client's error.
func (e *OpError) Unwrap() error { return e.Err }
