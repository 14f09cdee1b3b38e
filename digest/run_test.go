package digest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

// TestRun drives Run under testing/synctest with the system clock: digests
// go out at their instants, a failed send is retried after RetryInterval,
// a tenant added while Run waits is served, and Run returns when its
// context is cancelled, flushing its collector last.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ny := mustZone(t, "America/New_York")
		var mu sync.Mutex
		var got []time.Time
		failures := 1
		n := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return errDown
			}
			got = append(got, time.Now())
			return nil
		})
		s, err := digest.NewMailer(digest.MailerConfig{Notifier: n, RetryInterval: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		// The bubble starts at 2000-01-01 00:00 UTC, 1999-12-31 19:00 in New York.
		start := time.Now()
		mustSetTenant(t, s, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: ny}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		// Run first catches up on the digest due before it started
		// (1999-12-31's, empty: no email), then waits.
		synctest.Wait()

		add := func(fp string) {
			if err := s.Collector().Add(digest.Item{Tenant: "acme", Asset: "h", Fingerprint: fp, Time: time.Now()}); err != nil {
				t.Error(err)
			}
		}
		add("a")
		// Run flushes its collector every FlushInterval (5 seconds).
		time.Sleep(6 * time.Second)
		if items, _, _ := s.Store().Pending(context.Background(), "acme"); len(items) != 1 || s.Collector().Len() != 0 {
			t.Errorf("after a flush interval: %d items in the store, %d in the collector; want 1, 0", len(items), s.Collector().Len())
		}
		time.Sleep(15 * time.Hour) // 2000-01-01 10:00 New York: sent at 09:02
		add("b")
		time.Sleep(24 * time.Hour)
		// A tenant added while Run waits: its digest of today (2000-01-02,
		// due at 08:00 Berlin) is sent at once.
		add("c")
		mustSetTenant(t, s, "late", digest.Subscription{Schedule: digest.Schedule{Hour: 8, Location: berlin}})
		if err := s.Collector().Add(digest.Item{Tenant: "late", Asset: "h", Fingerprint: "l", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		lateAt := time.Now()
		time.Sleep(24 * time.Hour)
		// An item added just before the cancellation is flushed to the store.
		add("d")
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v; want context.Canceled", err)
		}
		want := []time.Time{
			time.Date(2000, 1, 1, 9, 2, 0, 0, ny), // a: failed at 09:00, retried 2 minutes later
			time.Date(2000, 1, 2, 9, 0, 0, 0, ny), // b
			lateAt,                                // "late", at once
			time.Date(2000, 1, 3, 9, 0, 0, 0, ny), // c
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != len(want) {
			t.Fatalf("Run sent %d digests at %v; want %d at %v (started %v)", len(got), got, len(want), want, start)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("digest %d sent at %v; want %v", i, got[i].In(ny), want[i])
			}
		}
		if items, _, _ := s.Store().Pending(context.Background(), "acme"); len(items) != 1 || items[0].Fingerprint != "d" {
			t.Errorf("pending after Run = %v; want [d]", items)
		}
	})
}

// TestRunTakesOver: another replica claimed the digest at its send time
// and died holding the lease. Run tries again every RetryInterval and
// sends the digest once the lease has run out, the same day, rather than
// merging it into tomorrow's.
func TestRunTakesOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []*alerts.Message
		var at []time.Time
		n := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			mu.Lock()
			defer mu.Unlock()
			sent, at = append(sent, msg), append(at, time.Now())
			return nil
		})
		s, err := digest.NewMailer(digest.MailerConfig{Notifier: n})
		if err != nil {
			t.Fatal(err)
		}
		// The bubble starts at 2000-01-01 00:00 UTC; the digest is due at 09:00.
		mustSetTenant(t, s, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // 1999-12-31's digest, empty: no email
		if err := digest.Append(ctx, s.Store(), digest.Item{Tenant: "acme", Fingerprint: "x", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(9*time.Hour - time.Second)
		// The other replica claims at 08:59:59 and dies.
		now := time.Now()
		c := digest.Claim{Day: digest.DayOf(now), Token: "dead", Now: now, Until: now.Add(digest.DefaultLeaseTTL)}
		if st, err := s.Store().Claim(ctx, "acme", c); err != nil || st != digest.Claimed {
			t.Fatalf("Claim = %v, %v; want claimed", st, err)
		}
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v; want context.Canceled", err)
		}
		mu.Lock()
		defer mu.Unlock()
		// Busy at 09:00, 09:01, ... 09:04; the lease ran out at 09:04:59.
		want := time.Date(2000, 1, 1, 9, 5, 0, 0, time.UTC)
		if len(sent) != 1 || !at[0].Equal(want) || !strings.HasPrefix(sent[0].ID, "digest.2000-01-01.acme.") {
			t.Fatalf("Run sent %d digests, at %v; want one, of 2000-01-01, at %v", len(sent), at, want)
		}
	})
}
