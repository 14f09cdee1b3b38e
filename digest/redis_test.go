package digest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// redisDigestStore returns a digest store on srv under prefix, on a client
// of its own: a replica.
func redisDigestStore(t *testing.T, srv *redistest.Server, prefix string) digest.Store {
	t.Helper()
	st, err := redisstore.New(redisstore.Config{Client: srv.Client(t), Prefix: prefix})
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return st
}

// TestConcurrentMailersRedis is TestConcurrentMailers with four replicas,
// each with its own connection, sharing a real redis-server.
func TestConcurrentMailersRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	clk := alertstest.NewClock(monday.Add(-time.Hour))
	concurrentMailers(t, clk, func(int) digest.Store { return redisDigestStore(t, srv, prefix) },
		redisDigestStore(t, srv, prefix))
}

// TestWeekRedis: the week of TestSeenMondayAgainWednesday and
// TestFailingTuesday on a real redis-server, one replica per day.
func TestWeekRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	clk := alertstest.NewClock(monday.Add(-2 * time.Hour))
	rec := alertstest.NewRecorder()
	down := alertstest.NewFailingNotifier(errDown, -1, nil)
	mailer := func(n alerts.Notifier) *digest.Mailer {
		s, err := digest.NewMailer(digest.Config{Store: redisDigestStore(t, srv, prefix), Clock: clk, Notifier: n})
		if err != nil {
			t.Fatal(err)
		}
		mustSetTenant(t, s, "acme", berlinTenant())
		return s
	}
	up, failing := mailer(rec), mailer(down)
	ctx := context.Background()

	mustAdd(t, up, threat("x", monday.Add(-time.Hour)))
	if err := sendAt(t, up, clk, monday); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, failing, threat("y", tuesday.Add(-time.Hour)))
	mustAdd(t, failing, threat("x", tuesday.Add(-time.Hour))) // reported Monday
	if err := sendAt(t, failing, clk, tuesday); err == nil {
		t.Fatal("SendDue on Tuesday = nil; want the backend's error")
	}
	mustAdd(t, up, threat("x", wednesday.Add(-time.Hour)))
	mustAdd(t, up, threat("z", wednesday.Add(-time.Hour)))
	if err := sendAt(t, up, clk, wednesday); err != nil {
		t.Fatal(err)
	}
	if err := sendAt(t, up, clk, thursday); err != nil {
		t.Fatal(err)
	}
	// Thirty-one days after Monday, x is new again.
	later := monday.AddDate(0, 0, 31)
	mustAdd(t, up, threat("x", later.Add(-time.Hour)))
	if err := sendAt(t, up, clk, later); err != nil {
		t.Fatal(err)
	}

	got := rec.Messages()
	want := [][]string{{"x"}, {"y", "z"}, {"x"}}
	if len(got) != len(want) {
		t.Fatalf("%d digests; want %d", len(got), len(want))
	}
	for i := range want {
		if fps := fingerprintsOf(got[i]); !slices.Equal(fps, want[i]) {
			t.Errorf("digest %d lists %v; want %v", i, fps, want[i])
		}
	}
	if r := down.Refused(); len(r) != 1 || !slices.Equal(fingerprintsOf(r[0]), []string{"y"}) {
		t.Errorf("Tuesday's refused digests = %d; want one with [y]", len(r))
	}
	if items, _, err := up.Store().Pending(ctx, "acme"); err != nil || len(items) != 0 {
		t.Errorf("Pending = %d items, %v; want none", len(items), err)
	}
}
