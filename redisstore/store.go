package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix begins every key when [Config.Prefix] is empty.
const DefaultPrefix = "alertmail"

// ErrNoClient means [Config.Client] is nil.
var ErrNoClient = errors.New("redisstore: Config.Client is nil")

// Config configures a [Store]. Only Client is required; every other field's
// zero value is a working default.
type Config struct {
	// Client is the connection to Redis: a *redis.Client, a
	// *redis.ClusterClient (every script touches the keys of one tenant,
	// which share a hash slot) or a *redis.Ring. Required.
	Client redis.Scripter

	// Prefix begins every key, so that several applications or
	// environments can share one Redis. It may hold only [A-Za-z0-9._:-],
	// at most 64 bytes. Default: [DefaultPrefix].
	Prefix string

	// SettingsTTL is how long a tenant's saved settings live after they
	// were last saved or loaded; a tenant not seen for that long is taken
	// to be gone and reverts to the catalog's defaults. Default: 400 days.
	SettingsTTL time.Duration

	// PendingTTL is how long, at least, a limiter key's pending events
	// live after they were last appended, given back or returned by an
	// expired lease; it is raised to the policy's period plus the lease
	// TTL plus a minute if it is shorter. The keys themselves get
	// PendingTTL plus the policy's period at each change of state (see
	// [LimitStore]). Events pending that long are dropped by Redis, so a
	// host should flush or drain pending events well within it (the daily
	// digest does). Default: 30 days.
	PendingTTL time.Duration

	// DigestTTL is how long a tenant's digest state (last day sent, lease,
	// pending items) lives after its last write; reported keys live at
	// least the retention. Default: 60 days.
	DigestTTL time.Duration
}

// A Store is the shared state of the SDK on one Redis: it hands out the
// stores that implement the SDK's store interfaces, all with the same
// client and key prefix.
//
// A Store is safe for concurrent use. Create one with [New]; the zero value
// is not usable.
type Store struct {
	client      redis.Scripter
	keys        keyspace
	settingsTTL time.Duration
	pendingTTL  time.Duration
	digestTTL   time.Duration
}

// New validates cfg and returns a Store. It does no I/O: the first call of
// each script loads it on the server (EVAL when EVALSHA finds it missing).
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, ErrNoClient
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	keys, err := newKeyspace(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	if cfg.SettingsTTL == 0 {
		cfg.SettingsTTL = 400 * 24 * time.Hour
	}
	if cfg.PendingTTL == 0 {
		cfg.PendingTTL = 30 * 24 * time.Hour
	}
	if cfg.DigestTTL == 0 {
		cfg.DigestTTL = 60 * 24 * time.Hour
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"SettingsTTL", cfg.SettingsTTL}, {"PendingTTL", cfg.PendingTTL}, {"DigestTTL", cfg.DigestTTL}} {
		if f.d < time.Millisecond {
			return nil, fmt.Errorf("redisstore: Config.%s %v is less than a millisecond", f.name, f.d)
		}
	}
	return &Store{
		client:      cfg.Client,
		keys:        keys,
		settingsTTL: cfg.SettingsTTL,
		pendingTTL:  cfg.PendingTTL,
		digestTTL:   cfg.DigestTTL,
	}, nil
}

// run runs script with keys and args, by SHA1 first and by source when the
// server does not have it (NOSCRIPT: a restarted or flushed server), and
// wraps a failure as an *OpError naming op.
func (s *Store) run(ctx context.Context, op string, script *redis.Script, keys []string, args ...any) (any, error) {
	v, err := script.Run(ctx, s.client, keys, args...).Result()
	if err != nil {
		return nil, &OpError{Op: op, Err: err}
	}
	return v, nil
}

// An OpError reports a Redis operation that failed: the server was
// unreachable, timed out, or refused the command. The operation may or may
// not have taken effect if the reply was lost; see the package
// documentation for what a host should do.
type OpError struct {
	// Op names the store operation ("settings save", "limiter decide").
	Op string
	// Err is the error of the Redis client.
	Err error
}

func (e *OpError) Error() string { return "redisstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the Redis client's error.
func (e *OpError) Unwrap() error { return e.Err }

// ms converts a duration to the integer milliseconds of PEXPIRE.
func ms(d time.Duration) int64 { return d.Milliseconds() }
