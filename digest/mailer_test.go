package digest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

// TestWeekAcrossDST runs a week minute by minute around a daylight-saving
// change, with an item every hour and SendDue every minute: exactly one
// digest goes out per local date, at the instant written down by hand from
// the zone's rules, and every item is in exactly one digest.
func TestWeekAcrossDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		zone         string
		hour, minute int
		first        string   // the first local date of the week
		want         []string // the send instants, RFC 3339
	}{
		{
			name: "New York spring forward, 02:30 skipped", zone: "America/New_York", hour: 2, minute: 30, first: "2026-03-05",
			want: []string{
				"2026-03-05T02:30:00-05:00", "2026-03-06T02:30:00-05:00", "2026-03-07T02:30:00-05:00",
				"2026-03-08T03:00:00-04:00", // 02:00 EST -> 03:00 EDT: sent at the jump
				"2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00", "2026-03-11T02:30:00-04:00",
			},
		},
		{
			name: "New York spring forward, 09:00", zone: "America/New_York", hour: 9, minute: 0, first: "2026-03-05",
			want: []string{
				"2026-03-05T09:00:00-05:00", "2026-03-06T09:00:00-05:00", "2026-03-07T09:00:00-05:00",
				"2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00", "2026-03-10T09:00:00-04:00",
				"2026-03-11T09:00:00-04:00",
			},
		},
		{
			name: "New York fall back, 01:30 repeated", zone: "America/New_York", hour: 1, minute: 30, first: "2026-10-29",
			want: []string{
				"2026-10-29T01:30:00-04:00", "2026-10-30T01:30:00-04:00", "2026-10-31T01:30:00-04:00",
				"2026-11-01T01:30:00-04:00", // the first 01:30 (EDT), not the second (EST)
				"2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00", "2026-11-04T01:30:00-05:00",
			},
		},
		{
			name: "Berlin spring forward, 02:30 skipped", zone: "Europe/Berlin", hour: 2, minute: 30, first: "2026-03-26",
			want: []string{
				"2026-03-26T02:30:00+01:00", "2026-03-27T02:30:00+01:00", "2026-03-28T02:30:00+01:00",
				"2026-03-29T03:00:00+02:00", // 02:00 CET -> 03:00 CEST
				"2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00", "2026-04-01T02:30:00+02:00",
			},
		},
		{
			name: "Berlin fall back, 02:30 repeated", zone: "Europe/Berlin", hour: 2, minute: 30, first: "2026-10-22",
			want: []string{
				"2026-10-22T02:30:00+02:00", "2026-10-23T02:30:00+02:00", "2026-10-24T02:30:00+02:00",
				"2026-10-25T02:30:00+02:00", // the first 02:30 (CEST)
				"2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00", "2026-10-28T02:30:00+01:00",
			},
		},
		{
			name: "Tokyo, no daylight saving", zone: "Asia/Tokyo", hour: 9, minute: 0, first: "2026-03-05",
			want: []string{
				"2026-03-05T09:00:00+09:00", "2026-03-06T09:00:00+09:00", "2026-03-07T09:00:00+09:00",
				"2026-03-08T09:00:00+09:00", "2026-03-09T09:00:00+09:00", "2026-03-10T09:00:00+09:00",
				"2026-03-11T09:00:00+09:00",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, tt.zone)
			d0, _ := time.ParseInLocation(time.DateOnly, tt.first, loc)
			start := d0 // local midnight of the first date
			s, clk, rec := newMailer(t, digest.MailerConfig{}, start)
			mustSetTenant(t, s, "acme", digest.Subscription{
				Schedule: digest.Schedule{Hour: tt.hour, Minute: tt.minute, Location: loc},
				To:       []string{"soc@acme.example"},
			})
			ctx := context.Background()
			added := 0
			end := start.Add(7 * 24 * time.Hour)
			for now := start; now.Before(end); now = now.Add(time.Minute) {
				clk.Set(now)
				if now.Minute() == 17 {
					mustAdd(t, s, digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "host",
						Fingerprint: fmt.Sprint("fp-", added), Summary: "something", Time: now})
					added++
				}
				require.NoErrorf(t, s.SendDue(ctx), "SendDue at %v", now)
			}
			got := rec.Messages()
			var at []string
			for _, m := range got {
				at = append(at, m.Time.Format(time.RFC3339))
			}
			require.Equal(t, tt.want, at, "the digests' send instants")
			seen := make(map[string]int)
			for i, m := range got {
				want, _ := time.Parse(time.RFC3339, tt.want[i])
				prefix := "digest." + digest.DayOf(want.In(loc)).String() + ".acme."
				assert.Truef(t, strings.HasPrefix(m.ID, prefix), "digest %d has ID %q; want it to start with %q", i, m.ID, prefix)
				assert.Samef(t, loc, m.Location, "digest %d's Location", i)
				for _, e := range m.Events {
					seen[e.Fingerprint]++
					assert.Truef(t, e.Time.Before(m.Time), "digest %d (sent %v) has item %s of %v; want only earlier ones", i, m.Time, e.Fingerprint, e.Time)
				}
			}
			// Items after the last digest are still pending; the others were
			// each in one digest.
			pending, _, err := digest.Store(storeOf(t, s)).Pending(ctx, "acme")
			require.NoError(t, err, "Pending")
			for _, it := range pending {
				seen[it.Fingerprint]++
			}
			for n := range added {
				fp := fmt.Sprint("fp-", n)
				assert.Equalf(t, 1, seen[fp], "digests (or pending) that hold item %s", fp)
			}
		})
	}
}

// storeOf digs out the mailer's store through a config made for the test.
func storeOf(t *testing.T, s *digest.Mailer) digest.Store {
	t.Helper()
	st := s.Store()
	require.NotNil(t, st, "Mailer.Store()")
	return st
}

// week is the first days of a week in March 2026, at 09:00 Berlin, the
// send time of the tests below.
var (
	berlin, _ = time.LoadLocation("Europe/Berlin")
	monday    = time.Date(2026, 3, 2, 9, 0, 0, 0, berlin)
	tuesday   = monday.AddDate(0, 0, 1)
	wednesday = monday.AddDate(0, 0, 2)
	thursday  = monday.AddDate(0, 0, 3)
)

func berlinSubscription() digest.Subscription {
	return digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: berlin}, To: []string{"soc@acme.example"}}
}

func threat(fp string, at time.Time) digest.Item {
	return digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: fp, Summary: "detection " + fp, Time: at}
}

// digestsOf returns the fingerprints each of msgs lists, sorted.
func digestsOf(msgs []alerts.Message) [][]string {
	out := make([][]string, len(msgs))
	for i, m := range msgs {
		out[i] = fingerprintsOf(m)
	}
	return out
}

// sendAt sets the clock and runs SendDue.
func sendAt(t *testing.T, s *digest.Mailer, clk *alertstest.Clock, at time.Time) error {
	t.Helper()
	clk.Set(at)
	return s.SendDue(context.Background())
}

func TestSeenMondayAgainWednesday(t *testing.T) {
	t.Parallel()
	s, clk, rec := newMailer(t, digest.MailerConfig{}, monday.Add(-2*time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())

	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue on Monday")
	mustAdd(t, s, threat("y", tuesday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, tuesday), "SendDue on Tuesday")
	// Wednesday: x again, with z; only z is new.
	mustAdd(t, s, threat("x", wednesday.Add(-2*time.Hour)))
	mustAdd(t, s, threat("z", wednesday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, wednesday), "SendDue on Wednesday")
	// Thursday: only x again: nothing new, no email.
	mustAdd(t, s, threat("x", thursday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, thursday), "SendDue on Thursday")
	assert.Equal(t, [][]string{{"x"}, {"y"}, {"z"}}, digestsOf(rec.Messages()), "the digests list")
	// The repeats are not left pending either.
	items, _, err := s.Store().Pending(context.Background(), "acme")
	require.NoError(t, err, "Pending")
	assert.Empty(t, items, "items still pending")
}

func TestRetention(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		retention time.Duration
		after     int // days after Monday that x comes back
		reported  bool
	}{
		{"default, 29 days later", 0, 29, false},
		{"default, 30 days later", 0, 30, false}, // reported at 09:00, checked at 09:00: still within
		{"default, 31 days later", 0, 31, true},
		{"7 days, 6 days later", 7 * 24 * time.Hour, 6, false},
		{"7 days, 8 days later", 7 * 24 * time.Hour, 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mon := time.Date(2026, 6, 1, 9, 0, 0, 0, berlin) // no DST change in the next 31 days
			s, clk, rec := newMailer(t, digest.MailerConfig{Retention: tt.retention}, mon.Add(-2*time.Hour))
			mustSetTenant(t, s, "acme", berlinSubscription())
			mustAdd(t, s, threat("x", mon.Add(-time.Hour)))
			require.NoError(t, sendAt(t, s, clk, mon), "SendDue on the first day")
			later := mon.AddDate(0, 0, tt.after)
			mustAdd(t, s, threat("x", later.Add(-time.Hour)))
			require.NoError(t, sendAt(t, s, clk, later), "SendDue on the later day")
			want := map[bool]int{false: 1, true: 2}[tt.reported]
			assert.Equalf(t, want, rec.Len(), "digests, x back after %d days with retention %v", tt.after, tt.retention)
		})
	}
}

// TestFailingTuesday: the backend is down all Tuesday. Every attempt that
// day carries the same message ID; Tuesday's items come in Wednesday's
// digest, and nothing is reported twice. Each day is served by a mailer of
// its own (replicas sharing one store), so that Tuesday's notifier can
// refuse everything.
func TestFailingTuesday(t *testing.T) {
	t.Parallel()
	store := digest.NewMemoryStore()
	clk := alertstest.NewClock(monday.Add(-2 * time.Hour))
	rec := alertstest.NewRecorder()
	down := alertstest.NewFailingNotifier(errDown, -1, nil)
	mailer := func(n alerts.Notifier) *digest.Mailer {
		s, err := digest.NewMailer(digest.MailerConfig{Store: store, Clock: clk, Notifier: n})
		require.NoError(t, err, "NewMailer")
		mustSetTenant(t, s, "acme", berlinSubscription())
		return s
	}
	up, failing := mailer(rec), mailer(down)

	mustAdd(t, up, threat("a", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, up, clk, monday), "SendDue on Monday")
	mustAdd(t, failing, threat("b1", tuesday.Add(-2*time.Hour)))
	mustAdd(t, failing, threat("b2", tuesday.Add(-time.Hour)))
	mustAdd(t, failing, threat("a", tuesday.Add(-time.Hour))) // reported Monday
	for _, at := range []time.Time{tuesday, tuesday.Add(time.Minute), tuesday.Add(6 * time.Hour)} {
		err := sendAt(t, failing, clk, at)
		var se *digest.SendError
		require.ErrorAsf(t, err, &se, "SendDue at %v", at)
		require.ErrorIsf(t, err, errDown, "SendDue at %v", at)
		require.Equalf(t, digest.SendError{Tenant: "acme", Day: digest.DayOf(tuesday), Err: se.Err}, *se, "SendDue at %v: the SendError", at)
	}
	mustAdd(t, up, threat("c", tuesday.Add(7*time.Hour)))   // after Tuesday's send time
	mustAdd(t, up, threat("b1", wednesday.Add(-time.Hour))) // seen again, still unreported
	require.NoError(t, sendAt(t, up, clk, wednesday), "SendDue on Wednesday")
	require.NoError(t, sendAt(t, up, clk, thursday), "SendDue on Thursday")

	refused := down.Refused()
	require.Len(t, refused, 3, "attempts on Tuesday")
	wantID := refused[0].ID
	assert.Truef(t, strings.HasPrefix(wantID, "digest.2026-03-03.acme."), "Tuesday's digest has ID %q; want it to start with %q", wantID, "digest.2026-03-03.acme.")
	for i, m := range refused {
		assert.Equalf(t, wantID, m.ID, "Tuesday's attempt %d: ID", i)
		assert.Equalf(t, []string{"b1", "b2"}, fingerprintsOf(m), "Tuesday's attempt %d: items", i)
	}
	got := rec.Messages()
	require.Equal(t, [][]string{{"a"}, {"b1", "b2", "c"}}, digestsOf(got), "the accepted digests list")
	assert.Truef(t, strings.HasPrefix(got[1].ID, "digest.2026-03-04.acme."), "Wednesday's digest has ID %q; want it to start with %q", got[1].ID, "digest.2026-03-04.acme.")
	// b1 was seen twice (Tuesday and Wednesday): one line, count 2.
	assert.Contains(t, got[1].Text, "detection b1 (x2)", "Wednesday's digest collapses b1")
}

func TestDuplicatesCollapse(t *testing.T) {
	t.Parallel()
	s, clk, rec := newMailer(t, digest.MailerConfig{}, monday.Add(-12*time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())
	first := monday.Add(-8 * time.Hour)
	for i, h := range []int{8, 2, 5} { // out of order
		it := threat("x", monday.Add(-time.Duration(h)*time.Hour))
		it.Summary = fmt.Sprint("x seen, report ", i)
		mustAdd(t, s, it)
	}
	mustAdd(t, s, threat("y", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue")
	got := rec.Messages()
	require.Len(t, got, 1, "digests")
	msg := got[0]
	assert.Equal(t, []string{"x", "y"}, fingerprintsOf(msg), "the digest lists")
	// The latest occurrence's summary, the count, first and last seen.
	wantLine := "  - x seen, report 1 (x3)\n      first seen " + first.Format("2006-01-02 15:04:05") +
		" CET (UTC+01:00)\n      last seen " + monday.Add(-2*time.Hour).Format("2006-01-02 15:04:05") + " CET (UTC+01:00)\n"
	assert.Contains(t, msg.Text, wantLine, "the digest text")
	assert.Contains(t, msg.Subject, "2 new notifications", "the Subject")
}

func TestEmptyDigestSendsNothing(t *testing.T) {
	t.Parallel()
	s, clk, rec := newMailer(t, digest.MailerConfig{}, monday.Add(-time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue on Monday")
	// An item after the (empty) digest of Monday waits for Tuesday's.
	mustAdd(t, s, threat("late", monday.Add(time.Hour)))
	require.NoError(t, sendAt(t, s, clk, monday.Add(2*time.Hour)), "SendDue on Monday, later")
	require.Zero(t, rec.Len(), "emails on Monday")
	require.NoError(t, sendAt(t, s, clk, tuesday), "SendDue on Tuesday")
	assert.Equal(t, [][]string{{"late"}}, digestsOf(rec.Messages()), "Tuesday's digests list")
}

// flakyStore fails Commit while failCommit is set.
type flakyStore struct {
	digest.Store
	mu         sync.Mutex
	failCommit bool
}

var errStore = errors.New("store unreachable")

func (f *flakyStore) Commit(ctx context.Context, tenant string, c digest.Commit) error {
	f.mu.Lock()
	fail := f.failCommit
	f.mu.Unlock()
	if fail {
		return errStore
	}
	return f.Store.Commit(ctx, tenant, c)
}

func (f *flakyStore) setFailCommit(v bool) {
	f.mu.Lock()
	f.failCommit = v
	f.mu.Unlock()
}

// TestSentButNotRecorded: the email went out but the store did not record
// it. The error says so; the digest is sent again, under the same message
// ID, once the lease has run out, and not before.
func TestSentButNotRecorded(t *testing.T) {
	t.Parallel()
	st := &flakyStore{Store: digest.NewMemoryStore()}
	s, clk, rec := newMailer(t, digest.MailerConfig{Store: st, LeaseTTL: 10 * time.Minute}, monday.Add(-2*time.Hour))
	mustSetTenant(t, s, "acme", berlinSubscription())
	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	st.setFailCommit(true)
	err := sendAt(t, s, clk, monday)
	require.ErrorIs(t, err, digest.ErrNotRecorded, "SendDue with a failing commit")
	require.ErrorIs(t, err, errStore, "SendDue with a failing commit")
	st.setFailCommit(false)
	require.NoError(t, sendAt(t, s, clk, monday.Add(5*time.Minute)), "SendDue within the lease")
	require.Equal(t, 1, rec.Len(), "emails within the lease")
	require.NoError(t, sendAt(t, s, clk, monday.Add(11*time.Minute)), "SendDue after the lease")
	got := rec.Messages()
	require.Len(t, got, 2, "emails after the lease")
	require.Equal(t, got[0].ID, got[1].ID, "the IDs of the two emails")
	require.NoError(t, sendAt(t, s, clk, monday.Add(time.Hour)), "SendDue after the commit")
	require.Equal(t, 2, rec.Len(), "emails after the commit")
}

// TestConcurrentMailers: four mailers (replicas) share a store, each with
// its own collector fed concurrently; every day eight goroutines call
// SendDue at once. One digest goes out per day, and every item is in
// exactly one digest.
func TestConcurrentMailers(t *testing.T) {
	t.Parallel()
	store := digest.NewMemoryStore()
	clk := alertstest.NewClock(monday.Add(-time.Hour))
	concurrentMailers(t, clk, func(int) digest.Store { return store }, store)
}

// concurrentMailers runs the scenario of TestConcurrentMailers with replica
// r's store made by newStore(r); check is a store to read the shared state
// through at the end.
func concurrentMailers(t *testing.T, clk *alertstest.Clock, newStore func(r int) digest.Store, check digest.Store) {
	rec := alertstest.NewRecorder()
	// A backend that takes a moment, to widen the race.
	slow := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		time.Sleep(time.Millisecond)
		return rec.Notify(ctx, msg)
	})
	const replicas, days = 4, 5
	var mailers []*digest.Mailer
	for r := range replicas {
		s, err := digest.NewMailer(digest.MailerConfig{Store: newStore(r), Notifier: slow, Clock: clk})
		require.NoError(t, err, "NewMailer")
		mustSetTenant(t, s, "acme", berlinSubscription())
		mailers = append(mailers, s)
	}
	ctx := context.Background()
	stop := make(chan struct{})
	counts, produced := produceItems(t, mailers, clk, stop)
	for d := range days {
		// Wait for something to report, so that each day has an email.
		for {
			if items, _, _ := check.Pending(ctx, "acme"); len(items) > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		clk.Set(monday.AddDate(0, 0, d))
		sendDueAtOnce(t, mailers, 2)
		require.Equalf(t, d+1, rec.Len(), "digests after day %d", d)
	}
	close(stop)
	produced.Wait()
	// A last digest the next day takes what is left, once every replica
	// has flushed its collector.
	for _, s := range mailers {
		require.NoError(t, s.Collector().Flush(ctx), "Flush")
	}
	clk.Set(monday.AddDate(0, 0, days))
	for _, s := range mailers {
		require.NoError(t, s.SendDue(ctx), "SendDue")
	}
	requireEachOnce(t, rec.Messages(), counts)
	items, _, err := check.Pending(ctx, "acme")
	require.NoError(t, err, "Pending")
	require.Empty(t, items, "items still pending")
}

// produceItems adds items to each mailer's collector from a goroutine per
// mailer, item n of mailer r with the fingerprint "r<r>-<n>", flushing now
// and then as Run does, until stop is closed. counts[r] is how many mailer
// r added, to be read once produced is done.
func produceItems(t *testing.T, mailers []*digest.Mailer, clk *alertstest.Clock, stop <-chan struct{}) (counts []int, produced *sync.WaitGroup) {
	counts = make([]int, len(mailers))
	produced = new(sync.WaitGroup)
	for r, s := range mailers {
		produced.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if !assert.NoError(t, s.Collector().Add(threat(fmt.Sprintf("r%d-%d", r, n), clk.Now())), "Add") {
					return
				}
				counts[r]++
				if n%64 == 0 {
					if !assert.NoError(t, s.Collector().Flush(context.Background()), "Flush") {
						return
					}
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	return counts, produced
}

// sendDueAtOnce calls SendDue on every mailer from perMailer goroutines
// each, all released at once, and waits for them.
func sendDueAtOnce(t *testing.T, mailers []*digest.Mailer, perMailer int) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range perMailer * len(mailers) {
		wg.Go(func() {
			<-start
			assert.NoError(t, mailers[i%len(mailers)].SendDue(context.Background()), "SendDue")
		})
	}
	close(start)
	wg.Wait()
}

// requireEachOnce requires that msgs list every item produceItems added
// exactly once, and nothing else.
func requireEachOnce(t *testing.T, msgs []alerts.Message, counts []int) {
	t.Helper()
	seen := make(map[string]int)
	for _, m := range msgs {
		for _, e := range m.Events {
			seen[e.Fingerprint]++
		}
	}
	total := 0
	for r, count := range counts {
		for n := range count {
			fp := fmt.Sprintf("r%d-%d", r, n)
			require.Equalf(t, 1, seen[fp], "digests that list item %s", fp)
		}
		total += count
	}
	require.Len(t, seen, total, "items the digests list, of the items added")
	t.Logf("%d items in %d digests", total, len(msgs))
}

func TestNewMailerConfig(t *testing.T) {
	t.Parallel()
	ok := alerts.NotifierFunc(func(context.Context, *alerts.Message) error { return nil })
	tests := []struct {
		name  string
		cfg   digest.MailerConfig
		field string // named in the error; "" for no error
	}{
		{"zero but notifier", digest.MailerConfig{Notifier: ok}, ""},
		{"no notifier", digest.MailerConfig{}, "Notifier"},
		{"negative retention", digest.MailerConfig{Notifier: ok, Retention: -1}, "Retention"},
		{"negative lease", digest.MailerConfig{Notifier: ok, LeaseTTL: -time.Second}, "LeaseTTL"},
		{"negative retry", digest.MailerConfig{Notifier: ok, RetryInterval: -time.Second}, "RetryInterval"},
		{"negative flush", digest.MailerConfig{Notifier: ok, FlushInterval: -time.Second}, "FlushInterval"},
		{"bad view-all scheme", digest.MailerConfig{Notifier: ok, ViewAllURL: "javascript:alert(1)"}, "ViewAllURL"},
		{"unknown placeholder", digest.MailerConfig{Notifier: ok, ViewAllURL: "https://x.example/{tenant}/{date}"}, "ViewAllURL"},
		{"good view-all", digest.MailerConfig{Notifier: ok, ViewAllURL: "https://x.example/digest/{tenant}?day={day}"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := digest.NewMailer(tt.cfg)
			if tt.field == "" {
				assert.NoErrorf(t, err, "NewMailer(%+v)", tt.cfg)
				return
			}
			assert.ErrorIsf(t, err, digest.ErrConfig, "NewMailer(%+v)", tt.cfg)
			assert.ErrorContainsf(t, err, "MailerConfig."+tt.field, "NewMailer(%+v) = %v; want it to name %s", tt.cfg, err, tt.field)
		})
	}
}

func TestSetTenant(t *testing.T) {
	t.Parallel()
	s, _, _ := newMailer(t, digest.MailerConfig{}, monday)
	tests := []struct {
		name  string
		id    string
		sub   digest.Subscription
		field string
	}{
		{"good", "acme", berlinSubscription(), ""},
		{"empty id", "", berlinSubscription(), "invalid tenant id"},
		{"CRLF in id", "a\r\nb", berlinSubscription(), "invalid tenant id"},
		{"bad hour", "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 24}}, "Hour"},
		{"CRLF in To", "acme", digest.Subscription{To: []string{"a@b.example\r\nBcc: x@y.example"}}, "To"},
		{"display name in To", "acme", digest.Subscription{To: []string{"Bob <bob@acme.example>"}}, "To"},
		{"not an address in To", "acme", digest.Subscription{To: []string{"soc@acme.example", "soc"}}, "To"},
		{"no recipients", "acme", digest.Subscription{}, ""},
		{"LF in From", "acme", digest.Subscription{From: "a@b.example\n"}, "From"},
		{"NUL in ReplyTo", "acme", digest.Subscription{ReplyTo: "a@b\x00.example"}, "ReplyTo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetTenant(tt.id, tt.sub)
			if tt.field == "" {
				assert.NoErrorf(t, err, "SetTenant(%q, %+v)", tt.id, tt.sub)
				return
			}
			assert.ErrorIsf(t, err, digest.ErrTenant, "SetTenant(%q, %+v)", tt.id, tt.sub)
			assert.ErrorContainsf(t, err, tt.field, "SetTenant(%q, %+v) = %v; want it to name %s", tt.id, tt.sub, err, tt.field)
		})
	}
}

// TestSetTenantRecipients: recipients are checked and normalised as the
// alerts settings do, so a digest goes to the addresses an alert would,
// and a bad one is refused when it is set rather than at every send.
func TestSetTenantRecipients(t *testing.T) {
	t.Parallel()
	s, clk, rec := newMailer(t, digest.MailerConfig{}, monday.Add(-2*time.Hour))
	sub := berlinSubscription()
	sub.To = []string{" Ops@Bücher.Example ", "Ops@XN--BCHER-KVA.example", "soc@acme.example"}
	mustSetTenant(t, s, "acme", sub)
	err := s.SetTenant("beta", digest.Subscription{To: []string{"soc@acme.example", "Bob <bob@acme.example>"}})
	assert.ErrorIs(t, err, digest.ErrTenant, "SetTenant with a display name")
	assert.ErrorIs(t, err, alerts.ErrInvalidRecipient, "SetTenant with a display name")
	var re *alerts.RecipientError
	if assert.ErrorAs(t, err, &re, "SetTenant with a display name") {
		assert.Equal(t, 1, re.Index, "SetTenant with a display name: RecipientError.Index")
	}
	many := make([]string, alerts.DefaultMaxRecipients+1)
	for i := range many {
		many[i] = fmt.Sprintf("soc%d@acme.example", i)
	}
	assert.ErrorIsf(t, s.SetTenant("beta", digest.Subscription{To: many}), alerts.ErrTooManyRecipients, "SetTenant with %d recipients", len(many))
	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue")
	got := rec.Messages()
	require.Len(t, got, 1, "digests")
	assert.Equal(t, []string{"Ops@xn--bcher-kva.example", "soc@acme.example"}, got[0].To, "the digest's recipients")
}

func TestNextDueAndRemoveTenant(t *testing.T) {
	t.Parallel()
	s, clk, rec := newMailer(t, digest.MailerConfig{}, monday.Add(-3*time.Hour))
	assert.Zero(t, s.NextDue(), "NextDue() with no tenants")
	mustSetTenant(t, s, "berlin", berlinSubscription())
	ny := mustZone(t, "America/New_York")
	mustSetTenant(t, s, "ny", digest.Subscription{Schedule: digest.Schedule{Hour: 2, Location: ny}})
	// Sunday's digests fell due and the mailer has not tried them yet.
	assert.WithinDuration(t, clk.Now().Add(digest.DefaultRetryInterval), s.NextDue(), 0, "NextDue() before any SendDue")
	require.NoError(t, s.SendDue(context.Background()), "SendDue")
	// 06:00 Berlin is 00:00 in New York: New York's 02:00 (07:00 UTC)
	// comes before Berlin's 09:00 (08:00 UTC).
	assert.WithinDuration(t, time.Date(2026, 3, 2, 2, 0, 0, 0, ny), s.NextDue(), 0, "NextDue()")
	s.RemoveTenant("ny")
	assert.WithinDuration(t, monday, s.NextDue(), 0, "NextDue() without ny")
	// Another mailer holds Monday's digest (and may die holding it): this
	// one tries again every RetryInterval, not tomorrow.
	it := threat("x", monday.Add(-time.Hour))
	it.Tenant = "berlin"
	mustAdd(t, s, it)
	c := digest.Claim{Day: digest.DayOf(monday), Token: "other", Now: monday, Until: monday.Add(digest.DefaultLeaseTTL)}
	st, err := s.Store().Claim(context.Background(), "berlin", c)
	require.NoError(t, err, "Claim")
	require.Equal(t, digest.Claimed, st, "Claim")
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue while another mailer holds the digest")
	require.Zero(t, rec.Len(), "emails while another mailer holds the digest")
	assert.WithinDuration(t, monday.Add(digest.DefaultRetryInterval), s.NextDue(), 0, "NextDue() while another mailer holds the digest")
}

// slowBuild is a store whose Pending takes longer than the lease: by the
// time the mailer would send, another mailer has claimed the digest.
type slowBuild struct {
	digest.Store
	clk   *alertstest.Clock
	lease time.Duration
}

func (s *slowBuild) Pending(ctx context.Context, tenant string) ([]digest.Item, uint64, error) {
	items, through, err := s.Store.Pending(ctx, tenant)
	now := s.clk.Advance(s.lease + time.Minute)
	if _, err := s.Store.Claim(ctx, tenant, digest.Claim{Day: digest.DayOf(monday), Token: "other", Now: now, Until: now.Add(s.lease)}); err != nil {
		return nil, 0, err
	}
	return items, through, err
}

// TestLeaseLostWhileBuilding: a mailer whose lease ran out while it built
// the digest, and was taken by another, does not send it.
func TestLeaseLostWhileBuilding(t *testing.T) {
	t.Parallel()
	clk := alertstest.NewClock(monday.Add(-time.Hour))
	st := &slowBuild{Store: digest.NewMemoryStore(), clk: clk, lease: time.Minute}
	rec := alertstest.NewRecorder()
	s, err := digest.NewMailer(digest.MailerConfig{Store: st, Clock: clk, Notifier: rec, LeaseTTL: st.lease})
	require.NoError(t, err, "NewMailer")
	mustSetTenant(t, s, "acme", berlinSubscription())
	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, s, clk, monday), "SendDue (another mailer has the digest)")
	require.Zero(t, rec.Len(), "emails sent after the lease was lost")
	items, _, err := st.Store.Pending(context.Background(), "acme")
	require.NoError(t, err, "Pending")
	require.Len(t, items, 1, "items pending, left for the mailer that holds the lease")
}

// countingStore counts Claim calls.
type countingStore struct {
	digest.Store
	mu     sync.Mutex
	claims int
}

func (c *countingStore) Claim(ctx context.Context, tenant string, cl digest.Claim) (digest.ClaimStatus, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.Store.Claim(ctx, tenant, cl)
}

// TestSendDueCachesSentDays: once a mailer knows a day is sent (by itself
// or, through an AlreadySent claim, by another), its ticks do not ask the
// store again until the next day is due.
func TestSendDueCachesSentDays(t *testing.T) {
	t.Parallel()
	shared := digest.NewMemoryStore()
	st := &countingStore{Store: shared}
	s, clk, rec := newMailer(t, digest.MailerConfig{Store: st}, monday.Add(-time.Hour))
	other, err := digest.NewMailer(digest.MailerConfig{Store: shared, Clock: clk, Notifier: rec})
	require.NoError(t, err, "NewMailer")
	mustSetTenant(t, s, "acme", berlinSubscription())
	mustSetTenant(t, other, "acme", berlinSubscription())
	mustAdd(t, s, threat("x", monday.Add(-2*time.Hour)))
	require.NoError(t, s.Collector().Flush(context.Background()), "Flush")
	// The other replica sends Monday's digest; this one learns it once.
	require.NoError(t, sendAt(t, other, clk, monday), "the other replica's SendDue")
	for range 100 {
		clk.Advance(time.Minute)
		require.NoError(t, s.SendDue(context.Background()), "SendDue")
	}
	assert.Equal(t, 1, st.claims, "claims in 100 ticks after Monday's digest")
	assert.Equal(t, 1, rec.Len(), "emails in 100 ticks after Monday's digest")
	require.NoError(t, sendAt(t, s, clk, tuesday), "SendDue on Tuesday")
	assert.Equal(t, 2, st.claims, "claims after Tuesday's send time")
}

// TestMailerDiesMidSend: a replica claims a tenant's digest and dies,
// before Notify (it holds the lease, nothing went out) or after the
// notifier accepted the email and before the store recorded it. Another
// replica on the same store sends nothing while the lease lasts, then
// sends the digest: under the same message ID if nothing new arrived, under
// a new one listing the new notification too if something did. Once it is
// recorded, nothing more goes out.
func TestMailerDiesMidSend(t *testing.T) {
	t.Parallel()
	const lease = 10 * time.Minute
	tests := []struct {
		name       string
		afterSend  bool // the first replica died after Notify accepted
		newItem    bool // a new notification arrived before the takeover
		wantSameID bool
	}{
		{"before Notify", false, false, false},
		{"after Notify, nothing new", true, false, true},
		{"after Notify, a new notification", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shared := digest.NewMemoryStore()
			clk := alertstest.NewClock(monday.Add(-2 * time.Hour))
			rec := alertstest.NewRecorder()
			replica := func(st digest.Store) *digest.Mailer {
				s, err := digest.NewMailer(digest.MailerConfig{Store: st, Clock: clk, Notifier: rec, LeaseTTL: lease})
				require.NoError(t, err, "NewMailer")
				mustSetTenant(t, s, "acme", berlinSubscription())
				return s
			}
			ctx := context.Background()
			require.NoError(t, digest.Append(ctx, shared, threat("x", monday.Add(-time.Hour)), threat("y", monday.Add(-time.Hour))), "Append")
			clk.Set(monday)
			if tt.afterSend {
				// Its store is gone after Notify: the commit never lands.
				dying := &flakyStore{Store: shared, failCommit: true}
				require.ErrorIs(t, replica(dying).SendDue(ctx), digest.ErrNotRecorded, "the dying replica's SendDue")
			} else {
				c := digest.Claim{Day: digest.DayOf(monday), Token: "dead", Now: monday, Until: monday.Add(lease)}
				st, err := shared.Claim(ctx, "acme", c)
				require.NoError(t, err, "Claim")
				require.Equal(t, digest.Claimed, st, "Claim")
			}
			sentBefore := rec.Len()
			if tt.newItem {
				require.NoError(t, digest.Append(ctx, shared, threat("z", monday.Add(time.Minute))), "Append")
			}
			other := replica(shared)
			require.NoError(t, sendAt(t, other, clk, monday.Add(lease-time.Second)), "SendDue of the takeover within the lease")
			require.Equal(t, sentBefore, rec.Len(), "emails after the takeover's SendDue within the lease")
			require.NoError(t, sendAt(t, other, clk, monday.Add(lease+time.Second)), "SendDue after the lease")
			require.NoError(t, sendAt(t, other, clk, monday.Add(lease+time.Minute)), "SendDue a minute later")
			got := rec.Messages()
			require.Len(t, got, sentBefore+1, "emails after the takeover")
			last := got[len(got)-1]
			want := []string{"x", "y"}
			if tt.newItem {
				want = append(want, "z")
			}
			assert.Equal(t, want, fingerprintsOf(last), "the takeover's digest lists")
			if tt.afterSend {
				assert.Equalf(t, tt.wantSameID, got[0].ID == last.ID, "IDs %q then %q are the same", got[0].ID, last.ID)
			}
			items, _, err := shared.Pending(ctx, "acme")
			assert.NoError(t, err, "Pending")
			assert.Empty(t, items, "items still pending")
			// The next day has nothing new.
			assert.NoError(t, sendAt(t, other, clk, tuesday), "SendDue on Tuesday")
			assert.Equal(t, len(got), rec.Len(), "emails after Tuesday's SendDue")
		})
	}
}
