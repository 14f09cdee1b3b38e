package redisscript

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// ErrNoClient means a store's Config.Client is nil.
var ErrNoClient = errors.New("redisstore: Config.Client is nil")

// Run runs script with keys and args through c, by SHA1 first and by
// source when the server does not have it (NOSCRIPT: a restarted or
// flushed server), and wraps a failure as an *[OpError] naming op.
func Run(ctx context.Context, c redis.Scripter, op string, script *redis.Script, keys []string, args ...any) (any, error) {
	v, err := script.Run(ctx, c, keys, args...).Result()
	if err != nil {
		return nil, &OpError{Op: op, Err: err}
	}
	return v, nil
}

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
