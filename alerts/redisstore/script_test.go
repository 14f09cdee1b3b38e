package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// commandCalls returns the calls of each command since the last CONFIG
// RESETSTAT (INFO commandstats).
func commandCalls(t *testing.T, srv *redistest.Server) map[string]int {
	t.Helper()
	info, err := srv.Client(t).Info(context.Background(), "commandstats").Result()
	require.NoError(t, err, "INFO commandstats")
	out := map[string]int{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(calls)
	}
	return out
}

// TestScriptsBySHA checks that the scripts run by SHA (EVALSHA), that the
// source is sent (EVAL) only when the server lacks the script, as after a
// restart or SCRIPT FLUSH, and that the calls then succeed.
func TestScriptsBySHA(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t) // a server of its own: the test flushes its scripts
	client := srv.Client(t)
	ls, _ := newStore(t, srv, redisstore.Config{Client: client})
	ctx := context.Background()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	now := time.Now()
	take := func(id string) {
		t.Helper()
		_, err := ls.Take(ctx, key, alerts.FrequencyLimit{}, now, time.Minute, []alerts.Event{{ID: id}})
		require.NoError(t, err, "Take")
	}
	take("first") // loads the script (NOSCRIPT, then EVAL)
	require.NoError(t, client.ConfigResetStat(ctx).Err())
	for i := range 10 {
		take(strconv.Itoa(i))
	}
	calls := commandCalls(t, srv)
	require.Truef(t, calls["evalsha"] == 10 && calls["eval"] == 0,
		"10 Takes with the script loaded: %d EVALSHA, %d EVAL; want 10 and 0", calls["evalsha"], calls["eval"])
	require.NoError(t, client.ScriptFlush(ctx).Err())
	require.NoError(t, client.ConfigResetStat(ctx).Err())
	take("after-flush")
	take("again")
	calls = commandCalls(t, srv)
	// The first call after the flush: EVALSHA (NOSCRIPT), then EVAL, which
	// caches the script again; the second: EVALSHA only.
	require.Truef(t, calls["evalsha"] == 2 && calls["eval"] == 1,
		"2 Takes after SCRIPT FLUSH: %d EVALSHA, %d EVAL; want 2 and 1", calls["evalsha"], calls["eval"])
	evs, err := ls.Drain(ctx, key, alerts.FrequencyLimit{}, now)
	// 13 events: the first 5 each went under a lease (never committed),
	// the other 8 are pending.
	require.NoError(t, err, "Drain")
	assert.Lenf(t, evs, 8, "Drain = %d events; want 8", len(evs))
}

// TestRedisDown checks that every operation of the store fails with an
// *OpError, wrapping the client's error, when Redis is down.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: "down"})
	require.NoError(t, err)
	srv.Stop(t)
	var ctx context.Context // each operation's, set by its subtest
	now := time.Now()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	set := alerts.DefaultCatalog().Defaults("acme")
	ops := map[string]func() error{
		"settings load": func() error { _, err := st.Load(ctx, "acme"); return err },
		"settings save": func() error { _, err := st.Save(ctx, set); return err },
		"limiter take": func() error {
			_, err := st.Take(ctx, key, alerts.FrequencyLimit{}, now, time.Minute, []alerts.Event{{ID: "e"}})
			return err
		},
		"limiter commit":    func() error { return st.Commit(ctx, key, alerts.FrequencyLimit{}, "lease", now) },
		"limiter give back": func() error { return st.GiveBack(ctx, key, alerts.FrequencyLimit{}, "lease", now, now) },
		"limiter drain":     func() error { _, err := st.Drain(ctx, key, alerts.FrequencyLimit{}, now); return err },
		"limiter drop":      func() error { _, err := st.Drop(ctx, key, alerts.FrequencyLimit{}, now); return err },
	}
	for op, call := range ops {
		t.Run(op, func(t *testing.T) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := call()
			oe, ok := errors.AsType[*redisstore.OpError](err)
			require.Truef(t, ok, "%s with Redis down = %v; want an *OpError", op, err)
			assert.Equalf(t, op, oe.Op, "%s with Redis down: OpError.Op = %q; want %q", op, oe.Op, op)
			assert.Errorf(t, errors.Unwrap(oe), "%s with Redis down: the OpError wraps no client error", op)
			assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "+op+": "), "%s with Redis down = %q; want the prefix %q", op, err, "redisstore: "+op+": ")
		})
	}
}
