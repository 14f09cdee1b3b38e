package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/redisstore"
)

// commandCalls returns the calls of each command since the last CONFIG
// RESETSTAT (INFO commandstats).
func commandCalls(t *testing.T, srv *redistest.Server) map[string]int {
	t.Helper()
	info, err := srv.Client(t).Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
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
	st := newStore(t, srv, client)
	ctx := context.Background()
	ls := st.Limits()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	now := time.Now()
	take := func(id string) {
		t.Helper()
		if _, err := ls.Take(ctx, key, alerts.FrequencyLimit{}, now, time.Minute, []alerts.Event{{ID: id}}); err != nil {
			t.Fatalf("Take: %v", err)
		}
	}
	take("first") // loads the script (NOSCRIPT, then EVAL)
	if err := client.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		take(strconv.Itoa(i))
	}
	calls := commandCalls(t, srv)
	if calls["evalsha"] != 10 || calls["eval"] != 0 {
		t.Fatalf("10 Takes with the script loaded: %d EVALSHA, %d EVAL; want 10 and 0", calls["evalsha"], calls["eval"])
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	client.ConfigResetStat(ctx)
	take("after-flush")
	take("again")
	calls = commandCalls(t, srv)
	// The first call after the flush: EVALSHA (NOSCRIPT), then EVAL, which
	// caches the script again; the second: EVALSHA only.
	if calls["evalsha"] != 2 || calls["eval"] != 1 {
		t.Fatalf("2 Takes after SCRIPT FLUSH: %d EVALSHA, %d EVAL; want 2 and 1", calls["evalsha"], calls["eval"])
	}
	evs, err := ls.Drain(ctx, key, alerts.FrequencyLimit{}, now)
	// 13 events: the first 5 each went under a lease (never committed),
	// the other 8 are pending.
	if err != nil || len(evs) != 8 {
		t.Fatalf("Drain = %d events, %v; want 8", len(evs), err)
	}
}

// TestRedisDown checks that every operation of every store fails with an
// *OpError, wrapping the client's error, when Redis is down.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: "down"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	var ctx context.Context // each operation's, set by its subtest
	now := time.Now()
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	set := alerts.DefaultCatalog().Defaults("acme")
	ls, ds, ss := st.Limits(), st.Digest(), st.Settings(nil)
	ops := map[string]func() error{
		"settings load": func() error { _, err := ss.Load(ctx, "acme"); return err },
		"settings save": func() error { _, err := ss.Save(ctx, set); return err },
		"limiter take": func() error {
			_, err := ls.Take(ctx, key, alerts.FrequencyLimit{}, now, time.Minute, []alerts.Event{{ID: "e"}})
			return err
		},
		"limiter commit":    func() error { return ls.Commit(ctx, key, alerts.FrequencyLimit{}, "lease", now) },
		"limiter give back": func() error { return ls.GiveBack(ctx, key, alerts.FrequencyLimit{}, "lease", now) },
		"limiter drain":     func() error { _, err := ls.Drain(ctx, key, alerts.FrequencyLimit{}, now); return err },
		"limiter drop":      func() error { _, err := ls.Drop(ctx, key, alerts.FrequencyLimit{}, now); return err },
		"digest append": func() error {
			return ds.Append(ctx, "acme", []digest.Item{{Tenant: "acme", Time: now}})
		},
		"digest pending": func() error { _, _, err := ds.Pending(ctx, "acme"); return err },
		"digest reported": func() error {
			_, err := ds.Reported(ctx, "acme", []digest.ItemKey{digest.ItemKeyOf("h", "f")}, now)
			return err
		},
		"digest claim": func() error {
			_, err := ds.Claim(ctx, "acme", digest.Claim{Day: digest.DayOf(now), Token: "t", Now: now, Until: now.Add(time.Minute)})
			return err
		},
		"digest commit": func() error {
			return ds.Commit(ctx, "acme", digest.Commit{Day: digest.DayOf(now), Token: "t", Now: now})
		},
		"digest release": func() error { return ds.Release(ctx, "acme", "t") },
	}
	for op, call := range ops {
		t.Run(op, func(t *testing.T) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := call()
			oe, ok := errors.AsType[*redisstore.OpError](err)
			if !ok || oe.Op != op || errors.Unwrap(oe) == nil || !strings.HasPrefix(err.Error(), "redisstore: "+op+": ") {
				t.Fatalf("%s with Redis down = %v; want an *OpError for %q wrapping the client's error", op, err, op)
			}
		})
	}
}
