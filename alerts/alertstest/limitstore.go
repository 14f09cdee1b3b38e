package alertstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// TestLimitStore runs the conformance tests of the alerts.LimitStore
// contract against the stores newStore returns: each subtest gets a new,
// empty store, whose dedup window is alerts.DefaultDedupWindow. The
// in-memory store passes them; a shared store (Redis) must too, so that
// the dispatcher gives the same guarantees on either.
//
// The tests pass times in explicitly, starting at 2026-01-01 00:00 UTC, and
// use the tenants "t1", "t2", … .
func TestLimitStore(t *testing.T, newStore func(t *testing.T) alerts.LimitStore) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s alerts.LimitStore)
	}{
		{"CooldownFiveThenCooling", testCooldown},
		{"ExactEndOfCooling", testExactEnd},
		{"HeldSlotsCount", testHeld},
		{"GiveBackKeepsOrderAndSlot", testGiveBack},
		{"LeaseExpires", testLeaseExpires},
		{"UnknownLease", testUnknownLease},
		{"DrainAndDrop", testDrainDrop},
		{"NothingPendingHoldsNoSlot", testNothingPending},
		{"SlidingWindow", testWindow},
		{"ClockBackwards", testBackwards},
		{"IdleCountForgotten", testIdleCount},
		{"KeysIndependent", testKeys},
		{"CopiesEvents", testCopies},
		{"Concurrent", testConcurrent},
		{"InvalidTenantsRefused", testInvalidTenants},
		{"UndeliverReleasesSlot", testUndeliver},
		{"RequeueGoesFirst", testRequeue},
		{"UndeliveredOutlivesState", testUndeliveredKept},
		{"UndeliveredCapped", testUndeliveredCap},
		{"UndeliverUnknownLease", testUndeliverUnknown},
		{"LateGiveBackReleasesSlot", testLateGiveBack},
		{"ValidTenants", testValidTenants},
		// Idempotent events (limitstore_due.go).
		{"DuplicatesHeld", testDuplicatesHeld},
		{"DuplicatesWithinWindow", testDuplicatesWindow},
		{"DuplicatesInOneBatch", testDuplicatesBatch},
		{"AllDuplicatesLeaseNothing", testAllDuplicates},
		{"NoIDNeverDuplicate", testNoID},
		{"DrainDropStartWindow", testDrainDropWindow},
		{"FailuresCounted", testFailures},
		// Queue and the due index (limitstore_due.go).
		{"QueueNeverLeases", testQueue},
		{"DueAtCoolingEnd", testDueCooling},
		{"DueAtLeaseDeadline", testDueLease},
		{"DueNotBeforeRetry", testDueRetry},
		{"NotDueWithNothingPending", testNotDue},
		{"DueBlockedOnlyByLeases", testDueBlocked},
		{"DueClaims", testDueClaims},
		{"DueNextIsEarliest", testDueNext},
		{"DueMaxHonoured", testDueMax},
		{"DueConcurrentDisjoint", testDueConcurrent},
		{"DueFewAmongMany", testDueFew},
		{"DueRefusesBadArguments", testDueArgs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

var (
	t0   = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	key1 = alerts.LimitKey{Tenant: "t1", Category: alerts.ActiveThreat}
	dflt = alerts.FrequencyLimit{}.WithDefaults()
	ttl  = time.Minute
)

// events returns events with the given ids for key1.
func events(ids ...string) []alerts.Event {
	evs := make([]alerts.Event, len(ids))
	for i, id := range ids {
		evs[i] = alerts.Event{ID: id, Tenant: key1.Tenant, Category: key1.Category, Score: 5, Summary: "event " + id, Time: t0}
	}
	return evs
}

func ids(evs []alerts.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func take(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, evIDs ...string) alerts.Grant {
	t.Helper()
	g, err := s.Take(context.Background(), k, p, now, ttl, events(evIDs...))
	require.NoErrorf(t, err, "Take(%v, %v, %v)", k, now, evIDs)
	return g
}

// mustGrant checks that g holds a lease on exactly want.
func mustGrant(t *testing.T, g alerts.Grant, want ...string) {
	t.Helper()
	require.NotEmptyf(t, g.Lease, "Take = no lease (pending %d, next %v); want a lease on %q", g.Pending, g.Next, want)
	got := ids(g.Events)
	require.Truef(t, slices.Equal(got, want), "Take leased %q; want %q", got, want)
}

// mustDeny checks that g holds no lease, pending events and next.
func mustDeny(t *testing.T, g alerts.Grant, pending int, next time.Time) {
	t.Helper()
	require.Emptyf(t, g.Lease, "Take = lease %q on %q; want none", g.Lease, ids(g.Events))
	assert.Equalf(t, pending, g.Pending, "Take: Pending = %d; want %d", g.Pending, pending)
	assert.Truef(t, g.Next.Equal(next), "Take: Next = %v; want %v", g.Next, next)
}

func commit(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) {
	t.Helper()
	err := s.Commit(context.Background(), k, p, lease, now)
	require.NoErrorf(t, err, "Commit(%v, %q, %v) = %v; want nil", k, lease, now, err)
}

func giveBack(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) {
	t.Helper()
	err := s.GiveBack(context.Background(), k, p, lease, now, now)
	require.NoErrorf(t, err, "GiveBack(%v, %q, %v) = %v; want nil", k, lease, now, err)
}

func drain(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) []string {
	t.Helper()
	evs, err := s.Drain(context.Background(), k, p, now)
	require.NoErrorf(t, err, "Drain(%v, %v)", k, now)
	return ids(evs)
}

// sendN sends n single-event emails for k at now, with ids prefix0…
func sendN(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, n int, prefix string) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		g := take(t, s, k, p, now, id)
		mustGrant(t, g, id)
		commit(t, s, k, p, g.Lease, now)
	}
}

func testCooldown(t *testing.T, s alerts.LimitStore) {
	sendN(t, s, key1, dflt, t0, 5, "e")
	// The 6th event within the period is kept, not sent.
	mustDeny(t, take(t, s, key1, dflt, t0.Add(time.Hour), "e5"), 1, t0.Add(4*time.Hour))
	mustDeny(t, take(t, s, key1, dflt, t0.Add(2*time.Hour), "e6"), 2, t0.Add(4*time.Hour))
	// After the period the next email carries them, and the count restarts.
	g := take(t, s, key1, dflt, t0.Add(5*time.Hour), "e7")
	mustGrant(t, g, "e5", "e6", "e7")
	commit(t, s, key1, dflt, g.Lease, t0.Add(5*time.Hour))
	sendN(t, s, key1, dflt, t0.Add(5*time.Hour), 4, "f")
	mustDeny(t, take(t, s, key1, dflt, t0.Add(5*time.Hour), "g"), 1, t0.Add(9*time.Hour))
}

func testExactEnd(t *testing.T, s alerts.LimitStore) {
	sendN(t, s, key1, dflt, t0, 5, "e")
	end := t0.Add(4 * time.Hour)
	mustDeny(t, take(t, s, key1, dflt, end.Add(-time.Nanosecond), "late"), 1, end)
	g := take(t, s, key1, dflt, end)
	mustGrant(t, g, "late")
}

func testHeld(t *testing.T, s alerts.LimitStore) {
	var leases []string
	for i := range 5 {
		g := take(t, s, key1, dflt, t0, fmt.Sprint("h", i))
		mustGrant(t, g, fmt.Sprint("h", i))
		leases = append(leases, g.Lease)
	}
	// Five leases outstanding: a sixth sender must wait for them.
	mustDeny(t, take(t, s, key1, dflt, t0, "x"), 1, t0)
	giveBack(t, s, key1, dflt, leases[0], t0)
	g := take(t, s, key1, dflt, t0)
	mustGrant(t, g, "h0", "x")
	for _, l := range append(leases[1:], g.Lease) {
		commit(t, s, key1, dflt, l, t0)
	}
	mustDeny(t, take(t, s, key1, dflt, t0, "y"), 1, t0.Add(4*time.Hour))
}

func testGiveBack(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g1 := take(t, s, key1, p, t0, "a")
	mustGrant(t, g1, "a")
	mustDeny(t, take(t, s, key1, p, t0, "b"), 1, t0)
	giveBack(t, s, key1, p, g1.Lease, t0)
	// The failed send cost no slot: the retry goes now, oldest event first.
	g2 := take(t, s, key1, p, t0, "c")
	mustGrant(t, g2, "a", "b", "c")
	giveBack(t, s, key1, p, g2.Lease, t0)
	g3 := take(t, s, key1, p, t0)
	mustGrant(t, g3, "a", "b", "c")
	commit(t, s, key1, p, g3.Lease, t0)
	mustDeny(t, take(t, s, key1, p, t0, "d"), 1, t0.Add(time.Hour))
}

func testLeaseExpires(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	deadline := t0.Add(ttl)
	assert.Truef(t, g.Deadline.Equal(deadline), "Take: Deadline = %v; want %v", g.Deadline, deadline)
	// Until the deadline the lease keeps its events and its slot.
	before := deadline.Add(-time.Nanosecond)
	mustDeny(t, take(t, s, key1, p, before, "b"), 1, before)
	got := drain(t, s, key1, p, before)
	require.Equalf(t, []string{"b"}, got, "Drain before the deadline = %q; want [b]", got)
	// At the deadline the holder is presumed dead: "a" is pending again, and
	// the slot counts as a send made at the deadline (it may have gone out).
	mustDeny(t, take(t, s, key1, p, deadline), 1, deadline.Add(time.Hour))
	err := s.Commit(context.Background(), key1, p, g.Lease, deadline)
	assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "Commit(expired lease) = %v; want %v", err, alerts.ErrLeaseExpired)
	mustGrant(t, take(t, s, key1, p, deadline.Add(time.Hour)), "a")
}

func testUnknownLease(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	g := take(t, s, key1, dflt, t0, "a")
	mustGrant(t, g, "a")
	other := alerts.LimitKey{Tenant: "t2", Category: key1.Category}
	for _, tc := range []struct {
		k     alerts.LimitKey
		lease string
	}{{key1, g.Lease + "x"}, {key1, ""}, {other, g.Lease}} {
		err := s.Commit(ctx, tc.k, dflt, tc.lease, t0)
		assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "Commit(%v, %q) = %v; want %v", tc.k, tc.lease, err, alerts.ErrLeaseExpired)
		err = s.GiveBack(ctx, tc.k, dflt, tc.lease, t0, t0)
		assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "GiveBack(%v, %q) = %v; want %v", tc.k, tc.lease, err, alerts.ErrLeaseExpired)
	}
	commit(t, s, key1, dflt, g.Lease, t0)
	err := s.Commit(ctx, key1, dflt, g.Lease, t0)
	assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "Commit(committed lease) = %v; want %v", err, alerts.ErrLeaseExpired)
}

func testDrainDrop(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	take(t, s, key1, p, t0, "b")
	take(t, s, key1, p, t0, "c")
	got := drain(t, s, key1, p, t0)
	require.Equalf(t, []string{"b", "c"}, got, "Drain = %q; want [b c]", got)
	got = drain(t, s, key1, p, t0)
	require.Emptyf(t, got, "Drain again = %q; want none", got)
	take(t, s, key1, p, t0, "d")
	giveBack(t, s, key1, p, g.Lease, t0)
	n, err := s.Drop(ctx, key1, p, t0)
	require.NoError(t, err, "Drop")
	require.Equalf(t, 2, n, "Drop = %d; want 2", n)
	// Dropped events are gone, and the released slot is free.
	g = take(t, s, key1, p, t0)
	mustDeny(t, g, 0, time.Time{})
	mustGrant(t, take(t, s, key1, p, t0, "e"), "e")
	n, err = s.Drop(ctx, alerts.LimitKey{Tenant: "nobody", Category: key1.Category}, p, t0)
	if assert.NoError(t, err, "Drop(unknown key)") {
		assert.Zerof(t, n, "Drop(unknown key) = %d; want 0", n)
	}
}

func testNothingPending(t *testing.T, s alerts.LimitStore) {
	for range 10 {
		mustDeny(t, take(t, s, key1, dflt, t0), 0, time.Time{})
	}
	sendN(t, s, key1, dflt, t0, 5, "e")
}

func testWindow(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 3, Period: time.Hour}
	sendN(t, s, key1, p, t0, 1, "a")
	sendN(t, s, key1, p, t0.Add(10*time.Minute), 1, "b")
	sendN(t, s, key1, p, t0.Add(20*time.Minute), 1, "c")
	mustDeny(t, take(t, s, key1, p, t0.Add(30*time.Minute), "d"), 1, t0.Add(time.Hour))
	mustDeny(t, take(t, s, key1, p, t0.Add(time.Hour-time.Nanosecond)), 1, t0.Add(time.Hour))
	// At t0+1h the first send leaves the window: one slot, not a new cycle.
	g := take(t, s, key1, p, t0.Add(time.Hour), "e")
	mustGrant(t, g, "d", "e")
	commit(t, s, key1, p, g.Lease, t0.Add(time.Hour))
	mustDeny(t, take(t, s, key1, p, t0.Add(time.Hour), "f"), 1, t0.Add(70*time.Minute))
	mustGrant(t, take(t, s, key1, p, t0.Add(70*time.Minute)), "f")
}

func testBackwards(t *testing.T, s alerts.LimitStore) {
	sendN(t, s, key1, dflt, t0, 5, "e")
	// The wall clock steps back a day in the cooling period. The cooling
	// period lasts at most its length from the moment the step is seen.
	back := t0.Add(-24 * time.Hour)
	mustDeny(t, take(t, s, key1, dflt, back, "x"), 1, back.Add(4*time.Hour))
	mustDeny(t, take(t, s, key1, dflt, back.Add(4*time.Hour-time.Nanosecond)), 1, back.Add(4*time.Hour))
	mustGrant(t, take(t, s, key1, dflt, back.Add(4*time.Hour)), "x")

	k2 := alerts.LimitKey{Tenant: "t2", Category: key1.Category}
	p := alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 2, Period: time.Hour}
	sendN(t, s, k2, p, t0, 2, "w")
	// Sends recorded "in the future" count as made now.
	mustDeny(t, take(t, s, k2, p, back, "y"), 1, back.Add(time.Hour))
	mustGrant(t, take(t, s, k2, p, back.Add(time.Hour)), "y")
}

func testIdleCount(t *testing.T, s alerts.LimitStore) {
	sendN(t, s, key1, dflt, t0, 4, "a")
	// A count below the limit is forgotten a whole period after the last
	// send: five more may go before the cooling period.
	later := t0.Add(4 * time.Hour)
	sendN(t, s, key1, dflt, later, 5, "b")
	mustDeny(t, take(t, s, key1, dflt, later, "c"), 1, later.Add(4*time.Hour))

	k2 := alerts.LimitKey{Tenant: "t2", Category: key1.Category}
	sendN(t, s, k2, dflt, t0, 4, "a")
	// One nanosecond less and the count still stands: one more, then cooling.
	early := t0.Add(4*time.Hour - time.Nanosecond)
	sendN(t, s, k2, dflt, early, 1, "b")
	mustDeny(t, take(t, s, k2, dflt, early, "c"), 1, early.Add(4*time.Hour))
}

func testKeys(t *testing.T, s alerts.LimitStore) {
	cats := []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.SystemStatus, alerts.Configuration}
	var keys []alerts.LimitKey
	for i := range 250 {
		for _, c := range cats {
			keys = append(keys, alerts.LimitKey{Tenant: fmt.Sprint("t", i), Category: c})
		}
	}
	// Keys whose parts could be confused if joined naively.
	keys = append(keys,
		alerts.LimitKey{Tenant: "a/b", Category: "c"}, alerts.LimitKey{Tenant: "a", Category: "b/c"},
		alerts.LimitKey{Tenant: "{x}", Category: "*"}, alerts.LimitKey{Tenant: "x:y", Category: "z"},
		alerts.LimitKey{Tenant: "x", Category: "y:z"}, alerts.LimitKey{Tenant: "a/b/", Category: "q"})
	for _, k := range keys {
		sendN(t, s, k, dflt, t0, 5, k.String())
	}
	for _, k := range keys {
		mustDeny(t, take(t, s, k, dflt, t0, "late"), 1, t0.Add(4*time.Hour))
	}
	for _, k := range keys {
		got := drain(t, s, k, dflt, t0)
		require.Equalf(t, []string{"late"}, got, "Drain(%v) = %q; want [late]", k, got)
	}
}

func testCopies(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	evs := events("b")
	_, err := s.Take(context.Background(), key1, p, t0, ttl, evs)
	require.NoError(t, err, "Take(b)")
	evs[0].ID, evs[0].Summary = "changed", "changed"
	got, err := s.Drain(context.Background(), key1, p, t0)
	require.NoError(t, err, "Drain")
	ok := len(got) == 1 && got[0].ID == "b" && got[0].Summary == "event b" && got[0].Time.Equal(t0)
	assert.Truef(t, ok, "Drain = %+v; want the event as given", got)
}

func testConcurrent(t *testing.T, s alerts.LimitStore) {
	const workers, each = 64, 20
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		sent   []string
		emails int
		grants atomic.Int32
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				g, err := s.Take(context.Background(), key1, dflt, t0, ttl, events(id))
				if !assert.NoError(t, err, "Take") {
					return
				}
				if g.Lease == "" {
					continue
				}
				// The first sends fail: nothing may be lost or doubled, and
				// no slot is lost either.
				if grants.Add(1) <= 3 {
					assert.NoError(t, s.GiveBack(context.Background(), key1, dflt, g.Lease, t0, t0), "GiveBack")
					continue
				}
				if !assert.NoError(t, s.Commit(context.Background(), key1, dflt, g.Lease, t0), "Commit") {
					continue
				}
				mu.Lock()
				emails++
				sent = append(sent, ids(g.Events)...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equalf(t, dflt.Max, emails, "%d emails sent in one period; want exactly %d", emails, dflt.Max)
	all := append(sent, drain(t, s, key1, dflt, t0)...)
	slices.Sort(all)
	distinct := len(slices.Compact(slices.Clone(all)))
	assert.Truef(t, len(all) == workers*each && distinct == len(all),
		"sent + pending = %d events (%d distinct); want each of the %d fired exactly once", len(all), distinct, workers*each)
}

// testInvalidTenants: every method refuses a key whose tenant id
// alerts.ValidateTenant refuses, with an error wrapping
// alerts.ErrInvalidTenant whose message stays short however long the id.
func testInvalidTenants(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	for _, tn := range InvalidTenants() {
		k := alerts.LimitKey{Tenant: tn, Category: key1.Category}
		_, take := s.Take(ctx, k, dflt, t0, ttl, events("a"))
		_, queue := s.Queue(ctx, k, dflt, t0, events("a"))
		_, drain := s.Drain(ctx, k, dflt, t0)
		_, drop := s.Drop(ctx, k, dflt, t0)
		for name, err := range map[string]error{
			"Take": take, "Queue": queue, "Drain": drain, "Drop": drop,
			"Commit":   s.Commit(ctx, k, dflt, "1", t0),
			"GiveBack": s.GiveBack(ctx, k, dflt, "1", t0, t0),
		} {
			if assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "%s(tenant %.80q) = %v; want an error wrapping ErrInvalidTenant", name, tn, err) {
				assert.LessOrEqualf(t, len(err.Error()), 300, "%s(tenant of %d bytes): error of %d bytes; want the id cut short", name, len(tn), len(err.Error()))
			}
		}
	}
}

// testValidTenants: ids at the edges of the rule are accepted and kept
// apart.
func testValidTenants(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	tenants := ValidTenants()
	for i, tn := range tenants {
		k := alerts.LimitKey{Tenant: tn, Category: key1.Category}
		sendN(t, s, k, p, t0, 1, fmt.Sprint(i, "-"))
		mustDeny(t, take(t, s, k, p, t0, fmt.Sprint("late-", i)), 1, t0.Add(time.Hour))
	}
	for i, tn := range tenants {
		k := alerts.LimitKey{Tenant: tn, Category: key1.Category}
		got, want := drain(t, s, k, p, t0), []string{fmt.Sprint("late-", i)}
		assert.Equalf(t, want, got, "Drain(tenant %q) = %q; want %q", tn, got, want)
	}
}

func undeliver(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) int {
	t.Helper()
	n, err := s.Undeliver(context.Background(), k, p, lease, now)
	require.NoErrorf(t, err, "Undeliver(%v, %q, %v) = %v; want nil", k, lease, now, err)
	return n
}

func undelivered(t *testing.T, s alerts.LimitStore, k alerts.LimitKey) []string {
	t.Helper()
	evs, err := s.Undelivered(context.Background(), k)
	require.NoErrorf(t, err, "Undelivered(%v)", k)
	return ids(evs)
}

func requeue(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) int {
	t.Helper()
	n, err := s.Requeue(context.Background(), k, p, now)
	require.NoErrorf(t, err, "Requeue(%v, %v)", k, now)
	return n
}

// testUndeliver: an email refused for good costs no slot, its events wait
// on the undelivered list (not pending), and the key keeps sending.
func testUndeliver(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	got := undelivered(t, s, key1)
	require.Emptyf(t, got, "Undelivered of a new key = %q; want none", got)
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	mustDeny(t, take(t, s, key1, p, t0, "b"), 1, t0)
	n := undeliver(t, s, key1, p, g.Lease, t0)
	assert.Zerof(t, n, "Undeliver = %d discarded; want 0", n)
	got = undelivered(t, s, key1)
	require.Equalf(t, []string{"a"}, got, "Undelivered = %q; want [a]", got)
	// The slot is free: b goes now, without a.
	g = take(t, s, key1, p, t0)
	mustGrant(t, g, "b")
	commit(t, s, key1, p, g.Lease, t0)
	mustDeny(t, take(t, s, key1, p, t0, "c"), 1, t0.Add(time.Hour))
	// Undelivered leaves the list as it is; Requeue empties it into pending.
	got = undelivered(t, s, key1)
	require.Equalf(t, []string{"a"}, got, "Undelivered again = %q; want [a]", got)
	n = requeue(t, s, key1, p, t0)
	assert.Equalf(t, 1, n, "Requeue = %d; want 1", n)
	got = undelivered(t, s, key1)
	assert.Emptyf(t, got, "Undelivered after Requeue = %q; want none", got)
	n = requeue(t, s, key1, p, t0)
	assert.Zerof(t, n, "second Requeue = %d; want 0", n)
	// Requeued events obey the limit as any pending event.
	mustDeny(t, take(t, s, key1, p, t0), 2, t0.Add(time.Hour))
	g = take(t, s, key1, p, t0.Add(time.Hour))
	mustGrant(t, g, "a", "c")
	commit(t, s, key1, p, g.Lease, t0.Add(time.Hour))
}

// testRequeue: requeued events go before the events pending now, in
// their order.
func testRequeue(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a", "b")
	mustGrant(t, g, "a", "b")
	mustDeny(t, take(t, s, key1, p, t0, "c"), 1, t0)
	undeliver(t, s, key1, p, g.Lease, t0)
	g = take(t, s, key1, p, t0, "d")
	mustGrant(t, g, "c", "d")
	undeliver(t, s, key1, p, g.Lease, t0)
	g = take(t, s, key1, p, t0, "e")
	mustGrant(t, g, "e")
	giveBack(t, s, key1, p, g.Lease, t0)
	got := undelivered(t, s, key1)
	require.Equalf(t, []string{"a", "b", "c", "d"}, got, "Undelivered = %q; want [a b c d]", got)
	n := requeue(t, s, key1, p, t0)
	assert.Equalf(t, 4, n, "Requeue = %d; want 4", n)
	got = drain(t, s, key1, p, t0)
	assert.Equalf(t, []string{"a", "b", "c", "d", "e"}, got, "Drain after Requeue = %q; want [a b c d e]", got)
}

// testUndeliveredKept: the undelivered list stays when the key's limit
// state has nothing left to hold, and other keys have their own.
func testUndeliveredKept(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	undeliver(t, s, key1, p, g.Lease, t0)
	later := t0.Add(10 * time.Hour)
	mustDeny(t, take(t, s, key1, p, later), 0, time.Time{})
	got := drain(t, s, key1, p, later)
	assert.Emptyf(t, got, "Drain = %q; want nothing pending", got)
	got = undelivered(t, s, key1)
	assert.Equalf(t, []string{"a"}, got, "Undelivered 10 hours later = %q; want [a]", got)
	other := alerts.LimitKey{Tenant: "t2", Category: key1.Category}
	got = undelivered(t, s, other)
	assert.Emptyf(t, got, "Undelivered(%v) = %q; want none", other, got)
	n := requeue(t, s, other, p, later)
	assert.Zerof(t, n, "Requeue(%v) = %d; want 0", other, n)
}

// testUndeliveredCap: the list keeps the newest MaxUndelivered events and
// Undeliver reports how many it discarded.
func testUndeliveredCap(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	first := make([]string, alerts.MaxUndelivered-2)
	for i := range first {
		first[i] = fmt.Sprint("a", i)
	}
	g := take(t, s, key1, p, t0, first...)
	mustGrant(t, g, first...)
	n := undeliver(t, s, key1, p, g.Lease, t0)
	require.Zerof(t, n, "Undeliver of %d events = %d discarded; want 0", len(first), n)
	g = take(t, s, key1, p, t0, "b0", "b1", "b2", "b3", "b4")
	mustGrant(t, g, "b0", "b1", "b2", "b3", "b4")
	n = undeliver(t, s, key1, p, g.Lease, t0)
	assert.Equalf(t, 3, n, "Undeliver past the cap = %d discarded; want 3", n)
	got := undelivered(t, s, key1)
	want := append(slices.Clone(first[3:]), "b0", "b1", "b2", "b3", "b4")
	assert.Truef(t, slices.Equal(got, want), "Undelivered = %d events from %q; want the newest %d, from %q", len(got), got[:min(1, len(got))], len(want), want[:1])
}

// testUndeliverUnknown: Undeliver of a lease the store does not hold is
// ErrLeaseExpired, and an expired lease's events are pending, not
// undelivered.
func testUndeliverUnknown(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	_, err := s.Undeliver(context.Background(), key1, p, "no-such-lease", t0)
	assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "Undeliver(unknown lease) = %v; want ErrLeaseExpired", err)
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	late := g.Deadline
	_, err = s.Undeliver(context.Background(), key1, p, g.Lease, late)
	assert.ErrorIsf(t, err, alerts.ErrLeaseExpired, "Undeliver(expired lease) = %v; want ErrLeaseExpired", err)
	got := undelivered(t, s, key1)
	assert.Emptyf(t, got, "Undelivered = %q; want none", got)
	got = drain(t, s, key1, p, late)
	assert.Equalf(t, []string{"a"}, got, "Drain = %q; want [a], pending again", got)
}

// testLateGiveBack: a GiveBack or Undeliver arriving after its lease
// expired is ErrLeaseExpired, but takes back the send the expiry charged
// at the deadline, in both modes: a failed send never charges the limit.
func testLateGiveBack(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	for i, p := range []alerts.FrequencyLimit{
		{Max: 1, Period: time.Hour},
		{Mode: alerts.SlidingWindow, Max: 1, Period: time.Hour},
	} {
		for j, late := range []func(lease string, now time.Time) error{
			func(lease string, now time.Time) error { return s.GiveBack(ctx, key1, p, lease, now, now) },
			func(lease string, now time.Time) error { _, err := s.Undeliver(ctx, key1, p, lease, now); return err },
		} {
			start := t0.Add(time.Duration(4*i+2*j) * time.Hour)
			// An event of its own per round: the one of a round before
			// was sent, and its ID is a duplicate within the window.
			id := fmt.Sprint("a", i, j)
			g := take(t, s, key1, p, start, id)
			mustGrant(t, g, id)
			// The lease runs out: its event is pending again, and the
			// limit is charged as if the send happened at the deadline.
			mustDeny(t, take(t, s, key1, p, g.Deadline), 1, g.Deadline.Add(time.Hour))
			after := g.Deadline.Add(time.Second)
			err := late(g.Lease, after)
			require.ErrorIsf(t, err, alerts.ErrLeaseExpired, "mode %s, call %d after the deadline = %v; want ErrLeaseExpired", p.Mode, j, err)
			// The charge is gone: the event goes now, and no event was
			// duplicated.
			g = take(t, s, key1, p, after)
			mustGrant(t, g, id)
			commit(t, s, key1, p, g.Lease, after)
			got := undelivered(t, s, key1)
			require.Emptyf(t, got, "mode %s, call %d: Undelivered = %q; want none", p.Mode, j, got)
		}
	}
}
