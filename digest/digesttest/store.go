package digesttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

// TestStore runs the conformance tests of the [digest.Store] contract
// against stores made by newStore, which is called once per subtest and
// must return an empty store (using distinct key prefixes, say, if the
// stores share a server). Subtests run in parallel.
//
// Besides the contract as digest.Store documents it, the suite requires
// that items come back from Pending with every string field byte for byte
// (Unicode and control characters included) and with Time equal as an
// instant, to the nanosecond (its location may differ); that report times
// are kept at least to the second; and that a call with a cancelled context
// returns an error.
func TestStore(t *testing.T, newStore func(t *testing.T) digest.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, digest.Store)
	}{
		{"PendingOrderAndNumbers", testPending},
		{"ItemRoundTrip", testRoundTrip},
		{"ClaimAndLease", testClaim},
		{"AlreadySent", testAlreadySent},
		{"CommitLease", testCommitLease},
		{"ReportedAndExpiry", testReported},
		{"TenantIsolation", testIsolation},
		{"ConcurrentClaims", testConcurrentClaims},
		{"CancelledContext", testCancelled},
		{"InvalidTenantsRefused", testInvalidTenants},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// t0 is the start of the suite's time, a Monday.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func item(tenant string, n int) digest.Item {
	return digest.Item{
		Tenant:      tenant,
		Category:    alerts.Threat,
		Asset:       fmt.Sprintf("host-%d", n%3),
		Fingerprint: fmt.Sprintf("fp-%d", n),
		Summary:     fmt.Sprintf("item %d", n),
		Time:        t0.Add(time.Duration(n) * time.Minute),
	}
}

func items(tenant string, from, to int) []digest.Item {
	var out []digest.Item
	for n := from; n < to; n++ {
		out = append(out, item(tenant, n))
	}
	return out
}

func fingerprints(its []digest.Item) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.Fingerprint
	}
	return out
}

func wantPending(t *testing.T, s digest.Store, tenant string, want []digest.Item, wantThrough uint64) {
	t.Helper()
	got, through, err := s.Pending(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Pending(%q): %v", tenant, err)
	}
	if !slices.Equal(fingerprints(got), fingerprints(want)) || through != wantThrough {
		t.Fatalf("Pending(%q) = %v, %d; want %v, %d", tenant, fingerprints(got), through, fingerprints(want), wantThrough)
	}
}

func mustClaim(t *testing.T, s digest.Store, tenant string, c digest.Claim, want digest.ClaimStatus) {
	t.Helper()
	got, err := s.Claim(context.Background(), tenant, c)
	if err != nil {
		t.Fatalf("Claim(%q, %+v): %v", tenant, c, err)
	}
	if got != want {
		t.Fatalf("Claim(%q, day %s, token %q, now %v) = %v; want %v", tenant, c.Day, c.Token, c.Now, got, want)
	}
}

func mustAppend(t *testing.T, s digest.Store, tenant string, its []digest.Item) {
	t.Helper()
	if err := s.Append(context.Background(), tenant, its); err != nil {
		t.Fatalf("Append(%q, %d items): %v", tenant, len(its), err)
	}
}

func mustCommit(t *testing.T, s digest.Store, tenant string, c digest.Commit) {
	t.Helper()
	if err := s.Commit(context.Background(), tenant, c); err != nil {
		t.Fatalf("Commit(%q, %+v): %v", tenant, c, err)
	}
}

func mustRelease(t *testing.T, s digest.Store, tenant, token string) {
	t.Helper()
	if err := s.Release(context.Background(), tenant, token); err != nil {
		t.Fatalf("Release(%q, %q): %v", tenant, token, err)
	}
}

func testPending(t *testing.T, s digest.Store) {
	const tn = "acme"
	day := digest.DayOf(t0)
	wantPending(t, s, tn, nil, 0)
	mustAppend(t, s, tn, items(tn, 0, 3))
	mustAppend(t, s, tn, nil) // nothing
	mustAppend(t, s, tn, items(tn, 3, 5))
	wantPending(t, s, tn, items(tn, 0, 5), 5)

	c := digest.Commit{Day: day, Token: "x", Through: 3, Now: t0, ExpireBefore: t0.Add(-time.Hour)}
	mustCommit(t, s, tn, c)
	wantPending(t, s, tn, items(tn, 3, 5), 5)
	mustCommit(t, s, tn, c) // idempotent
	wantPending(t, s, tn, items(tn, 3, 5), 5)
	c.Through = 2 // older than what was removed: nothing more goes
	mustCommit(t, s, tn, c)
	wantPending(t, s, tn, items(tn, 3, 5), 5)

	c.Through = 5
	mustCommit(t, s, tn, c)
	wantPending(t, s, tn, nil, 5)
	mustAppend(t, s, tn, items(tn, 5, 6))
	wantPending(t, s, tn, items(tn, 5, 6), 6) // numbers are never reused
}

func testRoundTrip(t *testing.T, s digest.Store) {
	const tn = "acme"
	in := []digest.Item{
		{
			Tenant:      tn,
			Category:    alerts.CategoryID("custom-category"),
			Asset:       "srv-01.example.com\t\"quoted\" 'single' \\ {braces} *glob* [x]",
			Fingerprint: "rule:42|sha256:e3b0c44298fc1c149afbf4c8996fb924",
			Summary:     "Ünïcödé ☃ line one\r\nline two\x00 <b>&amp;</b> %s %%",
			Time:        time.Date(2026, 3, 8, 2, 59, 59, 123456789, time.FixedZone("X", -5*3600)),
		},
		{Tenant: tn, Time: t0}, // empty strings stay empty
	}
	mustAppend(t, s, tn, in)
	got, _, err := s.Pending(context.Background(), tn)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if len(got) != len(in) {
		t.Fatalf("Pending returned %d items; want %d", len(got), len(in))
	}
	for i := range in {
		g, w := got[i], in[i]
		if g.Tenant != w.Tenant || g.Category != w.Category || g.Asset != w.Asset ||
			g.Fingerprint != w.Fingerprint || g.Summary != w.Summary || !g.Time.Equal(w.Time) {
			t.Errorf("Pending item %d = %+v; want %+v", i, g, w)
		}
	}
}

func testClaim(t *testing.T, s digest.Store) {
	const tn = "acme"
	day := digest.DayOf(t0)
	lease := 5 * time.Minute
	claim := func(token string, now time.Time) digest.Claim {
		return digest.Claim{Day: day, Token: token, Now: now, Until: now.Add(lease)}
	}
	mustClaim(t, s, tn, claim("A", t0), digest.Claimed)
	mustClaim(t, s, tn, claim("B", t0.Add(time.Minute)), digest.Busy)
	// The holder renews: the lease now runs to t0+2m+5m.
	mustClaim(t, s, tn, claim("A", t0.Add(2*time.Minute)), digest.Claimed)
	mustClaim(t, s, tn, claim("B", t0.Add(6*time.Minute)), digest.Busy)
	// The lease ran out: B takes over.
	mustClaim(t, s, tn, claim("B", t0.Add(7*time.Minute)), digest.Claimed)
	mustClaim(t, s, tn, claim("A", t0.Add(8*time.Minute)), digest.Busy)
	// Only the holder's release counts.
	mustRelease(t, s, tn, "A")
	mustClaim(t, s, tn, claim("C", t0.Add(8*time.Minute)), digest.Busy)
	mustRelease(t, s, tn, "B")
	mustClaim(t, s, tn, claim("C", t0.Add(8*time.Minute)), digest.Claimed)
	// The lease is on the tenant, not on one day: a mailer of another day
	// must wait too.
	mustClaim(t, s, tn, digest.Claim{Day: day + 1, Token: "D", Now: t0.Add(9 * time.Minute), Until: t0.Add(time.Hour)}, digest.Busy)
}

func testAlreadySent(t *testing.T, s digest.Store) {
	const tn = "acme"
	day := digest.DayOf(t0)
	c := digest.Claim{Day: day, Token: "A", Now: t0, Until: t0.Add(time.Minute)}
	mustClaim(t, s, tn, c, digest.Claimed)
	mustCommit(t, s, tn, digest.Commit{Day: day, Token: "A", Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	for _, d := range []digest.Day{day, day - 1, day - 30} {
		mustClaim(t, s, tn, digest.Claim{Day: d, Token: "B", Now: t0, Until: t0.Add(time.Minute)}, digest.AlreadySent)
	}
	// A late commit of an older day does not move the last day back.
	mustCommit(t, s, tn, digest.Commit{Day: day - 1, Token: "Z", Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	mustClaim(t, s, tn, digest.Claim{Day: day, Token: "B", Now: t0, Until: t0.Add(time.Minute)}, digest.AlreadySent)
	mustClaim(t, s, tn, digest.Claim{Day: day + 1, Token: "B", Now: t0, Until: t0.Add(time.Minute)}, digest.Claimed)
}

func testCommitLease(t *testing.T, s digest.Store) {
	const tn = "acme"
	day := digest.DayOf(t0)
	// A commit by the holder ends the lease.
	mustClaim(t, s, tn, digest.Claim{Day: day, Token: "A", Now: t0, Until: t0.Add(time.Hour)}, digest.Claimed)
	mustCommit(t, s, tn, digest.Commit{Day: day, Token: "A", Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	mustClaim(t, s, tn, digest.Claim{Day: day + 1, Token: "B", Now: t0, Until: t0.Add(time.Hour)}, digest.Claimed)
	// A commit with a stale token records the day but leaves B's lease.
	mustCommit(t, s, tn, digest.Commit{Day: day + 1, Token: "A", Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	mustClaim(t, s, tn, digest.Claim{Day: day + 1, Token: "C", Now: t0, Until: t0.Add(time.Hour)}, digest.AlreadySent)
	mustClaim(t, s, tn, digest.Claim{Day: day + 2, Token: "C", Now: t0.Add(time.Minute), Until: t0.Add(time.Hour)}, digest.Busy)
}

func testReported(t *testing.T, s digest.Store) {
	const tn = "acme"
	ctx := context.Background()
	k1, k2, k3 := digest.ItemKeyOf("h", "1"), digest.ItemKeyOf("h", "2"), digest.ItemKeyOf("h", "3")
	check := func(keys []digest.ItemKey, since time.Time, want ...bool) {
		t.Helper()
		got, err := s.Reported(ctx, tn, keys, since)
		if err != nil {
			t.Fatalf("Reported: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Reported(%v, since %v) = %v; want %v", keys, since, got, want)
		}
	}
	check(nil, time.Time{})
	check([]digest.ItemKey{k1, k2, k3}, time.Time{}, false, false, false)
	day := digest.DayOf(t0)
	mustCommit(t, s, tn, digest.Commit{Day: day, Token: "A", Reported: []digest.ItemKey{k1, k2}, Now: t0, ExpireBefore: t0.Add(-30 * 24 * time.Hour)})
	check([]digest.ItemKey{k1, k2, k3}, t0.Add(-time.Hour), true, true, false)
	check([]digest.ItemKey{k2, k1, k2}, t0, true, true, true) // at or after
	check([]digest.ItemKey{k1, k2}, t0.Add(time.Second), false, false)

	// Ten days later k1 is reported again and everything reported before
	// t0+1d is forgotten: k2 for good, k1 is remembered at its new time.
	t1 := t0.Add(10 * 24 * time.Hour)
	mustCommit(t, s, tn, digest.Commit{Day: day + 10, Token: "B", Reported: []digest.ItemKey{k1}, Now: t1, ExpireBefore: t0.Add(24 * time.Hour)})
	check([]digest.ItemKey{k1, k2}, time.Time{}, true, false)
	check([]digest.ItemKey{k1}, t0.Add(5*24*time.Hour), true)
	// A commit at an earlier time (a late, stale mailer) does not move a
	// report time back.
	mustCommit(t, s, tn, digest.Commit{Day: day, Token: "Z", Reported: []digest.ItemKey{k1}, Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	check([]digest.ItemKey{k1}, t1, true)
}

func testIsolation(t *testing.T, s digest.Store) {
	tenants := []string{"acme", "acme:", ":acme", "acme*", "acme?", "{acme}", "acme}", "ac{me", "[acme]",
		"acme ", "Acme", "ünï", "acme:digest:pending", "*", ":", "{}"}
	for _, tn := range alertstest.ValidTenants() {
		if !slices.Contains(tenants, tn) {
			tenants = append(tenants, tn)
		}
	}
	day := digest.DayOf(t0)
	for i, tn := range tenants {
		mustAppend(t, s, tn, items(tn, i*10, i*10+i+1))
	}
	for i, tn := range tenants {
		wantPending(t, s, tn, items(tn, i*10, i*10+i+1), uint64(i+1))
		mustClaim(t, s, tn, digest.Claim{Day: day, Token: "T" + fmt.Sprint(i), Now: t0, Until: t0.Add(time.Hour)}, digest.Claimed)
	}
	// Commit the first tenant only: the others keep their items, their
	// leases and their days.
	first := tenants[0]
	mustCommit(t, s, first, digest.Commit{Day: day, Token: "T0", Through: 1,
		Reported: []digest.ItemKey{digest.ItemKeyOf("host-0", "fp-0")}, Now: t0, ExpireBefore: t0.Add(-time.Hour)})
	wantPending(t, s, first, nil, 1)
	for i, tn := range tenants[1:] {
		i++
		wantPending(t, s, tn, items(tn, i*10, i*10+i+1), uint64(i+1))
		mustClaim(t, s, tn, digest.Claim{Day: day, Token: "other", Now: t0, Until: t0.Add(time.Hour)}, digest.Busy)
		got, err := s.Reported(context.Background(), tn, []digest.ItemKey{digest.ItemKeyOf("host-0", "fp-0")}, time.Time{})
		if err != nil || got[0] {
			t.Fatalf("Reported(%q) = %v, %v; want [false]", tn, got, err)
		}
	}
}

func testConcurrentClaims(t *testing.T, s digest.Store) {
	const tn = "acme"
	day := digest.DayOf(t0)
	const n = 16
	var wg sync.WaitGroup
	results := make([]digest.ClaimStatus, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.Claim(context.Background(), tn, digest.Claim{Day: day, Token: fmt.Sprint("T", i), Now: t0, Until: t0.Add(time.Minute)})
		})
	}
	close(start)
	wg.Wait()
	claimed := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Claim %d: %v", i, errs[i])
		}
		if results[i] == digest.Claimed {
			claimed++
		}
	}
	if claimed != 1 {
		t.Fatalf("%d concurrent claims got %d Claimed; want exactly 1 (%v)", n, claimed, results)
	}
}

func testCancelled(t *testing.T, s digest.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	const tn = "acme"
	for name, err := range callEach(ctx, s, tn) {
		if err == nil {
			t.Errorf("%s with a cancelled context = nil; want an error", name)
		}
	}
	// Nothing happened.
	wantPending(t, s, tn, nil, 0)
}

// callEach calls every method of s once for tenant tn, with ctx, and
// returns their errors by method name.
func callEach(ctx context.Context, s digest.Store, tn string) map[string]error {
	day := digest.DayOf(t0)
	return map[string]error{
		"Append": s.Append(ctx, tn, items(tn, 0, 1)),
		"Claim":  second(s.Claim(ctx, tn, digest.Claim{Day: day, Token: "A", Now: t0, Until: t0.Add(time.Minute)})),
		"Pending": func() error {
			_, _, err := s.Pending(ctx, tn)
			return err
		}(),
		"Reported": second(s.Reported(ctx, tn, []digest.ItemKey{{}}, t0)),
		"Commit":   s.Commit(ctx, tn, digest.Commit{Day: day, Token: "A", Through: 1, Now: t0}),
		"Release":  s.Release(ctx, tn, "A"),
	}
}

func second[T any](_ T, err error) error { return err }

// testInvalidTenants: every method refuses a tenant id that
// alerts.ValidateTenant refuses, with an error wrapping
// alerts.ErrInvalidTenant whose message stays short however long the id,
// and does nothing.
func testInvalidTenants(t *testing.T, s digest.Store) {
	for _, tn := range alertstest.InvalidTenants() {
		for name, err := range callEach(context.Background(), s, tn) {
			if !errors.Is(err, alerts.ErrInvalidTenant) {
				t.Errorf("%s(tenant %.80q) = %v; want an error wrapping ErrInvalidTenant", name, tn, err)
			} else if len(err.Error()) > 300 {
				t.Errorf("%s(tenant of %d bytes): error of %d bytes; want the id cut short", name, len(tn), len(err.Error()))
			}
		}
	}
}
