package digest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err, "NewMailer")
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
			assert.NoErrorf(t, s.Collector().Add(digest.Item{Tenant: "acme", Asset: "h", Fingerprint: fp, Time: time.Now()}), "Add(%s)", fp)
		}
		add("a")
		// Run flushes its collector every FlushInterval (5 seconds).
		time.Sleep(6 * time.Second)
		items, _, err := s.Store().Pending(context.Background(), "acme")
		assert.NoError(t, err, "Pending")
		assert.Len(t, items, 1, "items in the store after a flush interval")
		assert.Zero(t, s.Collector().Len(), "items in the collector after a flush interval")
		time.Sleep(15 * time.Hour) // 2000-01-01 10:00 New York: sent at 09:02
		add("b")
		time.Sleep(24 * time.Hour)
		// A tenant added while Run waits: its digest of today (2000-01-02,
		// due at 08:00 Berlin) is sent at once. Its item is buffered first:
		// SetTenant wakes Run, which may serve the tenant before a later Add
		// and record today's digest as sent, empty, putting the item off to
		// tomorrow's.
		add("c")
		require.NoError(t, s.Collector().Add(digest.Item{Tenant: "late", Asset: "h", Fingerprint: "l", Time: time.Now()}), "Add")
		mustSetTenant(t, s, "late", digest.Subscription{Schedule: digest.Schedule{Hour: 8, Location: berlin}})
		synctest.Wait()
		lateAt := time.Now()
		time.Sleep(24 * time.Hour)
		// An item added just before the cancellation is flushed to the store.
		add("d")
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled, "Run")
		want := []time.Time{
			time.Date(2000, 1, 1, 9, 2, 0, 0, ny), // a: failed at 09:00, retried 2 minutes later
			time.Date(2000, 1, 2, 9, 0, 0, 0, ny), // b
			lateAt,                                // "late", at once
			time.Date(2000, 1, 3, 9, 0, 0, 0, ny), // c
		}
		mu.Lock()
		defer mu.Unlock()
		require.Lenf(t, got, len(want), "digests Run sent at %v; want them at %v (started %v)", got, want, start)
		for i := range want {
			assert.WithinDurationf(t, want[i], got[i], 0, "digest %d sent at %v", i, got[i].In(ny))
		}
		items, _, err = s.Store().Pending(context.Background(), "acme")
		require.NoError(t, err, "Pending after Run")
		require.Len(t, items, 1, "items pending after Run")
		assert.Equal(t, "d", items[0].Fingerprint, "the item pending after Run")
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
		require.NoError(t, err, "NewMailer")
		// The bubble starts at 2000-01-01 00:00 UTC; the digest is due at 09:00.
		mustSetTenant(t, s, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // 1999-12-31's digest, empty: no email
		require.NoError(t, digest.Append(ctx, s.Store(), digest.Item{Tenant: "acme", Fingerprint: "x", Time: time.Now()}), "Append")
		time.Sleep(9*time.Hour - time.Second)
		// The other replica claims at 08:59:59 and dies.
		now := time.Now()
		c := digest.Claim{Day: digest.DayOf(now), Token: "dead", Now: now, Until: now.Add(digest.DefaultLeaseTTL)}
		st, err := s.Store().Claim(ctx, "acme", c)
		require.NoError(t, err, "Claim")
		require.Equal(t, digest.Claimed, st, "Claim")
		time.Sleep(time.Hour)
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled, "Run")
		mu.Lock()
		defer mu.Unlock()
		// Busy at 09:00, 09:01, ... 09:04; the lease ran out at 09:04:59.
		require.Len(t, sent, 1, "digests Run sent")
		assert.WithinDuration(t, time.Date(2000, 1, 1, 9, 5, 0, 0, time.UTC), at[0], 0, "the digest's send time")
		assert.Truef(t, strings.HasPrefix(sent[0].ID, "digest.2000-01-01.acme."), "the digest has ID %q; want the one of 2000-01-01", sent[0].ID)
	})
}
