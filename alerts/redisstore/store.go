package redisstore

import (
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
)

// DefaultPrefix begins every key when [Config.Prefix] is empty.
const DefaultPrefix = rediskey.DefaultPrefix

// ErrNoClient means [Config.Client] is nil.
var ErrNoClient = redisscript.ErrNoClient

// ErrInvalidKey is the sentinel of a [KeyError]: a prefix or key component
// that the store refuses. A tenant id is refused as everywhere in the SDK,
// with the error of [alerts.ValidateTenant] (wrapping
// [alerts.ErrInvalidTenant]).
var ErrInvalidKey = rediskey.ErrInvalidKey

// A KeyError reports a prefix or key component the store refuses: too
// long, or (for the prefix, which is used as given) holding a character
// outside [A-Za-z0-9._:-]. Key components are otherwise escaped, so they
// may hold any bytes, or none; so are tenant ids, within the rule of
// [alerts.ValidateTenant]. Its fields are Field (what was refused:
// "prefix", "category"), Value and Reason; it wraps [ErrInvalidKey]. It is
// the same type as digest/redisstore's KeyError.
type KeyError = rediskey.KeyError

// An OpError reports a Redis operation that failed: the server was
// unreachable, timed out, or refused the command. Its Op names the store
// operation ("settings save", "limiter take") and it wraps the Redis
// client's error. The operation may or may not have taken effect if the
// reply was lost; see the package documentation for what a host should do.
// It is the same type as digest/redisstore's OpError.
type OpError = redisscript.OpError

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

	// Catalog is the catalog the tenants' settings follow. Stored settings
	// always load, read by [alerts.Catalog.RestoreSettings], also where the
	// catalog changed since they were saved (a replica deployed with
	// another catalog, a category removed, a lower recipient maximum): the
	// categories the catalog lacks are dropped, and its limits apply to new
	// saves only. Default: [alerts.DefaultCatalog].
	Catalog *alerts.Catalog

	// SettingsTTL is how long a tenant's saved settings live after they
	// were last saved or loaded; a tenant not seen for that long is taken
	// to be gone and reverts to the catalog's defaults. Default: 400 days.
	SettingsTTL time.Duration

	// PendingTTL is how long, at least, a limiter key's pending events
	// live after they were last appended, given back or returned by an
	// expired lease; it is raised to the policy's period plus the lease
	// TTL plus a minute if it is shorter. The keys themselves get
	// PendingTTL plus the policy's period at each change of state (see
	// "TTLs" in the package documentation). Events pending that
	// long are dropped by Redis, so a host should flush or drain pending
	// events well within it (Dispatcher.Run flushes due keys; the daily
	// digest drains). Default: 30 days.
	PendingTTL time.Duration

	// DedupWindow is how long the limiter remembers the ID of an event
	// after the event left its key (sent, drained, dropped, discarded),
	// so that a redelivery within it is a duplicate (see
	// [alerts.LimitStore]); while the key holds the event its ID is
	// remembered in any case. Default: [alerts.DefaultDedupWindow].
	DedupWindow time.Duration

	// Durability, when its Replicas is not zero, makes Take, Queue, Commit
	// and Save wait until that many replicas of the Redis master hold their
	// decision (WAIT) before they return, so that a failover cannot undo
	// what the dispatcher acts on; fewer in time is a *[ReplicationError].
	// See "Durability and failover" in the package documentation for its
	// cost and for what a failover can lose or repeat without it.
	// Default: no wait.
	Durability Durability
}

// A Store keeps the state of package alerts on one Redis, so that many
// replicas of a service behave as one: it is the [alerts.SettingsStore]
// (Load, Save) and the [alerts.LimitStore] (Take, Queue, Commit,
// GiveBack, Drain, Drop, Undeliver, Undelivered, Requeue, Due) of every
// replica's dispatcher. The two method sets are disjoint, and both work
// on the same client, key prefix and catalog.
//
// A Store is safe for concurrent use. Create one with [New]; the zero value
// is not usable.
type Store struct {
	conn        redisscript.Conn
	client      redis.Scripter // conn's, for the pipelines of Due
	catalog     *alerts.Catalog
	settingsTTL time.Duration
	pendingTTL  time.Duration
	window      time.Duration // the dedup window

	// The settings' scripts (settings.go).
	load, save *redis.Script

	// The limiter's scripts (limit.go, due.go) and the ids of its calls.
	take, end, drain, requeue, undelivered *redis.Script
	duePeek, dueClaim                      *redis.Script
	idBase                                 string        // random, so that the ids of replicas never collide
	idSeq                                  atomic.Uint64 // makes the ids of this store unique
	dueKeys                                [rediskey.Buckets]string
	rotor                                  atomic.Uint32 // the bucket Due claims from first
}

var (
	_ alerts.SettingsStore = (*Store)(nil)
	_ alerts.LimitStore    = (*Store)(nil)
)

// New validates cfg and returns a Store. It does no I/O: the first call of
// each script loads it on the server (EVAL when EVALSHA finds it missing).
func New(cfg Config) (*Store, error) {
	conn, err := redisscript.Connect(cfg.Client, cfg.Prefix)
	if err != nil {
		return nil, err
	}
	if conn, err = conn.WithDurability(cfg.Durability); err != nil {
		return nil, err
	}
	if cfg.Catalog == nil {
		cfg.Catalog = alerts.DefaultCatalog()
	}
	if cfg.SettingsTTL, err = redisscript.TTL("SettingsTTL", cfg.SettingsTTL, 400*24*time.Hour); err != nil {
		return nil, err
	}
	if cfg.PendingTTL, err = redisscript.TTL("PendingTTL", cfg.PendingTTL, 30*24*time.Hour); err != nil {
		return nil, err
	}
	if cfg.DedupWindow, err = redisscript.TTL("DedupWindow", cfg.DedupWindow, alerts.DefaultDedupWindow); err != nil {
		return nil, err
	}
	s := &Store{
		conn:        conn,
		client:      cfg.Client,
		catalog:     cfg.Catalog,
		settingsTTL: cfg.SettingsTTL,
		pendingTTL:  cfg.PendingTTL,
		window:      cfg.DedupWindow,
		load:        redis.NewScript(settingsLoadLua),
		save:        redis.NewScript(settingsSaveLua),
		// Take's fast path comes first but for the event ID reader it
		// uses: it returns before the rest runs.
		take:        redis.NewScript(limitEventLua + limitFastLua + redisscript.TimeLua + limitCommonLua + limitTakeLua),
		end:         redis.NewScript(limitEventLua + redisscript.TimeLua + limitCommonLua + limitEndLua),
		drain:       redis.NewScript(limitEventLua + redisscript.TimeLua + limitCommonLua + limitDrainLua),
		requeue:     redis.NewScript(limitEventLua + redisscript.TimeLua + limitCommonLua + limitRequeueLua),
		undelivered: redis.NewScript(limitUndeliveredLua),
		duePeek:     redis.NewScript(limitDuePeekLua),
		dueClaim:    redis.NewScript(limitDueLua),
		idBase:      newIDBase(),
	}
	for b := range s.dueKeys {
		s.dueKeys[b] = conn.Keys.BucketIndex(b, dueIndex)
	}
	return s, nil
}
