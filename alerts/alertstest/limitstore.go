package alertstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// TestLimitStore runs the conformance tests of the alerts.LimitStore
// contract against the stores newStore returns: each subtest gets a new,
// empty store. The in-memory store passes them; a shared store (Redis) must
// too, so that the dispatcher gives the same guarantees on either.
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
	if err != nil {
		t.Fatalf("Take(%v, %v, %v) error: %v", k, now, evIDs, err)
	}
	return g
}

// mustGrant checks that g holds a lease on exactly want.
func mustGrant(t *testing.T, g alerts.Grant, want ...string) {
	t.Helper()
	if g.Lease == "" {
		t.Fatalf("Take = no lease (pending %d, next %v); want a lease on %q", g.Pending, g.Next, want)
	}
	if got := ids(g.Events); !slices.Equal(got, want) {
		t.Fatalf("Take leased %q; want %q", got, want)
	}
}

// mustDeny checks that g holds no lease, pending events and next.
func mustDeny(t *testing.T, g alerts.Grant, pending int, next time.Time) {
	t.Helper()
	if g.Lease != "" {
		t.Fatalf("Take = lease %q on %q; want none", g.Lease, ids(g.Events))
	}
	if g.Pending != pending {
		t.Errorf("Take: Pending = %d; want %d", g.Pending, pending)
	}
	if !g.Next.Equal(next) {
		t.Errorf("Take: Next = %v; want %v", g.Next, next)
	}
}

func commit(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) {
	t.Helper()
	if err := s.Commit(context.Background(), k, p, lease, now); err != nil {
		t.Fatalf("Commit(%v, %q, %v) = %v; want nil", k, lease, now, err)
	}
}

func giveBack(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) {
	t.Helper()
	if err := s.GiveBack(context.Background(), k, p, lease, now, now); err != nil {
		t.Fatalf("GiveBack(%v, %q, %v) = %v; want nil", k, lease, now, err)
	}
}

func drain(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) []string {
	t.Helper()
	evs, err := s.Drain(context.Background(), k, p, now)
	if err != nil {
		t.Fatalf("Drain(%v, %v) error: %v", k, now, err)
	}
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
	if !g.Deadline.Equal(deadline) {
		t.Errorf("Take: Deadline = %v; want %v", g.Deadline, deadline)
	}
	// Until the deadline the lease keeps its events and its slot.
	before := deadline.Add(-time.Nanosecond)
	mustDeny(t, take(t, s, key1, p, before, "b"), 1, before)
	if got := drain(t, s, key1, p, before); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Drain before the deadline = %q; want [b]", got)
	}
	// At the deadline the holder is presumed dead: "a" is pending again, and
	// the slot counts as a send made at the deadline (it may have gone out).
	mustDeny(t, take(t, s, key1, p, deadline), 1, deadline.Add(time.Hour))
	if err := s.Commit(context.Background(), key1, p, g.Lease, deadline); !errors.Is(err, alerts.ErrLeaseExpired) {
		t.Errorf("Commit(expired lease) = %v; want %v", err, alerts.ErrLeaseExpired)
	}
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
		if err := s.Commit(ctx, tc.k, dflt, tc.lease, t0); !errors.Is(err, alerts.ErrLeaseExpired) {
			t.Errorf("Commit(%v, %q) = %v; want %v", tc.k, tc.lease, err, alerts.ErrLeaseExpired)
		}
		if err := s.GiveBack(ctx, tc.k, dflt, tc.lease, t0, t0); !errors.Is(err, alerts.ErrLeaseExpired) {
			t.Errorf("GiveBack(%v, %q) = %v; want %v", tc.k, tc.lease, err, alerts.ErrLeaseExpired)
		}
	}
	commit(t, s, key1, dflt, g.Lease, t0)
	if err := s.Commit(ctx, key1, dflt, g.Lease, t0); !errors.Is(err, alerts.ErrLeaseExpired) {
		t.Errorf("Commit(committed lease) = %v; want %v", err, alerts.ErrLeaseExpired)
	}
}

func testDrainDrop(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	take(t, s, key1, p, t0, "b")
	take(t, s, key1, p, t0, "c")
	if got, want := drain(t, s, key1, p, t0), []string{"b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("Drain = %q; want %q", got, want)
	}
	if got := drain(t, s, key1, p, t0); len(got) != 0 {
		t.Fatalf("Drain again = %q; want none", got)
	}
	take(t, s, key1, p, t0, "d")
	giveBack(t, s, key1, p, g.Lease, t0)
	n, err := s.Drop(ctx, key1, p, t0)
	if err != nil || n != 2 {
		t.Fatalf("Drop = %d, %v; want 2, nil", n, err)
	}
	// Dropped events are gone, and the released slot is free.
	g = take(t, s, key1, p, t0)
	mustDeny(t, g, 0, time.Time{})
	mustGrant(t, take(t, s, key1, p, t0, "e"), "e")
	if n, err := s.Drop(ctx, alerts.LimitKey{Tenant: "nobody", Category: key1.Category}, p, t0); err != nil || n != 0 {
		t.Errorf("Drop(unknown key) = %d, %v; want 0, nil", n, err)
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
		if got := drain(t, s, k, dflt, t0); !slices.Equal(got, []string{"late"}) {
			t.Fatalf("Drain(%v) = %q; want [late]", k, got)
		}
	}
}

func testCopies(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	evs := events("b")
	if _, err := s.Take(context.Background(), key1, p, t0, ttl, evs); err != nil {
		t.Fatal(err)
	}
	evs[0].ID, evs[0].Summary = "changed", "changed"
	got, err := s.Drain(context.Background(), key1, p, t0)
	if err != nil || len(got) != 1 || got[0].ID != "b" || got[0].Summary != "event b" || !got[0].Time.Equal(t0) {
		t.Fatalf("Drain = %+v, %v; want the event as given", got, err)
	}
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
				if err != nil {
					t.Errorf("Take error: %v", err)
					return
				}
				if g.Lease == "" {
					continue
				}
				// The first sends fail: nothing may be lost or doubled, and
				// no slot is lost either.
				if grants.Add(1) <= 3 {
					if err := s.GiveBack(context.Background(), key1, dflt, g.Lease, t0, t0); err != nil {
						t.Errorf("GiveBack error: %v", err)
					}
					continue
				}
				if err := s.Commit(context.Background(), key1, dflt, g.Lease, t0); err != nil {
					t.Errorf("Commit error: %v", err)
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
	if emails != dflt.Max {
		t.Errorf("%d emails sent in one period; want exactly %d", emails, dflt.Max)
	}
	all := append(sent, drain(t, s, key1, dflt, t0)...)
	slices.Sort(all)
	distinct := len(slices.Compact(slices.Clone(all)))
	if len(all) != workers*each || distinct != len(all) {
		t.Errorf("sent + pending = %d events (%d distinct); want each of the %d fired exactly once", len(all), distinct, workers*each)
	}
}

// testInvalidTenants: every method refuses a key whose tenant id
// alerts.ValidateTenant refuses, with an error wrapping
// alerts.ErrInvalidTenant whose message stays short however long the id.
func testInvalidTenants(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	for _, tn := range InvalidTenants() {
		k := alerts.LimitKey{Tenant: tn, Category: key1.Category}
		_, take := s.Take(ctx, k, dflt, t0, ttl, events("a"))
		_, drain := s.Drain(ctx, k, dflt, t0)
		_, drop := s.Drop(ctx, k, dflt, t0)
		for name, err := range map[string]error{
			"Take": take, "Drain": drain, "Drop": drop,
			"Commit":   s.Commit(ctx, k, dflt, "1", t0),
			"GiveBack": s.GiveBack(ctx, k, dflt, "1", t0, t0),
		} {
			if !errors.Is(err, alerts.ErrInvalidTenant) {
				t.Errorf("%s(tenant %.80q) = %v; want an error wrapping ErrInvalidTenant", name, tn, err)
			} else if len(err.Error()) > 300 {
				t.Errorf("%s(tenant of %d bytes): error of %d bytes; want the id cut short", name, len(tn), len(err.Error()))
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
		if got, want := drain(t, s, k, p, t0), []string{fmt.Sprint("late-", i)}; !slices.Equal(got, want) {
			t.Errorf("Drain(tenant %q) = %q; want %q", tn, got, want)
		}
	}
}

func undeliver(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, lease string, now time.Time) int {
	t.Helper()
	n, err := s.Undeliver(context.Background(), k, p, lease, now)
	if err != nil {
		t.Fatalf("Undeliver(%v, %q, %v) = %v; want nil", k, lease, now, err)
	}
	return n
}

func undelivered(t *testing.T, s alerts.LimitStore, k alerts.LimitKey) []string {
	t.Helper()
	evs, err := s.Undelivered(context.Background(), k)
	if err != nil {
		t.Fatalf("Undelivered(%v) error: %v", k, err)
	}
	return ids(evs)
}

func requeue(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time) int {
	t.Helper()
	n, err := s.Requeue(context.Background(), k, p, now)
	if err != nil {
		t.Fatalf("Requeue(%v, %v) error: %v", k, now, err)
	}
	return n
}

// testUndeliver: an email refused for good costs no slot, its events wait
// on the undelivered list (not pending), and the key keeps sending.
func testUndeliver(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	if got := undelivered(t, s, key1); len(got) != 0 {
		t.Fatalf("Undelivered of a new key = %q; want none", got)
	}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	mustDeny(t, take(t, s, key1, p, t0, "b"), 1, t0)
	if n := undeliver(t, s, key1, p, g.Lease, t0); n != 0 {
		t.Errorf("Undeliver = %d discarded; want 0", n)
	}
	if got := undelivered(t, s, key1); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Undelivered = %q; want [a]", got)
	}
	// The slot is free: b goes now, without a.
	g = take(t, s, key1, p, t0)
	mustGrant(t, g, "b")
	commit(t, s, key1, p, g.Lease, t0)
	mustDeny(t, take(t, s, key1, p, t0, "c"), 1, t0.Add(time.Hour))
	// Undelivered leaves the list as it is; Requeue empties it into pending.
	if got := undelivered(t, s, key1); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Undelivered again = %q; want [a]", got)
	}
	if n := requeue(t, s, key1, p, t0); n != 1 {
		t.Errorf("Requeue = %d; want 1", n)
	}
	if got := undelivered(t, s, key1); len(got) != 0 {
		t.Errorf("Undelivered after Requeue = %q; want none", got)
	}
	if n := requeue(t, s, key1, p, t0); n != 0 {
		t.Errorf("second Requeue = %d; want 0", n)
	}
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
	if got := undelivered(t, s, key1); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("Undelivered = %q; want [a b c d]", got)
	}
	if n := requeue(t, s, key1, p, t0); n != 4 {
		t.Errorf("Requeue = %d; want 4", n)
	}
	if got := drain(t, s, key1, p, t0); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("Drain after Requeue = %q; want [a b c d e]", got)
	}
}

// testUndeliveredKept: the undelivered list stays when the key's limit
// state has nothing left to hold, and other keys have their own.
func testUndeliveredKept(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	undeliver(t, s, key1, p, g.Lease, t0)
	later := t0.Add(10 * time.Hour)
	mustDeny(t, take(t, s, key1, p, later), 0, time.Time{})
	if got := drain(t, s, key1, p, later); len(got) != 0 {
		t.Errorf("Drain = %q; want nothing pending", got)
	}
	if got := undelivered(t, s, key1); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Undelivered 10 hours later = %q; want [a]", got)
	}
	other := alerts.LimitKey{Tenant: "t2", Category: key1.Category}
	if got := undelivered(t, s, other); len(got) != 0 {
		t.Errorf("Undelivered(%v) = %q; want none", other, got)
	}
	if n := requeue(t, s, other, p, later); n != 0 {
		t.Errorf("Requeue(%v) = %d; want 0", other, n)
	}
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
	if n := undeliver(t, s, key1, p, g.Lease, t0); n != 0 {
		t.Fatalf("Undeliver of %d events = %d discarded; want 0", len(first), n)
	}
	g = take(t, s, key1, p, t0, "b0", "b1", "b2", "b3", "b4")
	mustGrant(t, g, "b0", "b1", "b2", "b3", "b4")
	if n := undeliver(t, s, key1, p, g.Lease, t0); n != 3 {
		t.Errorf("Undeliver past the cap = %d discarded; want 3", n)
	}
	got := undelivered(t, s, key1)
	want := append(slices.Clone(first[3:]), "b0", "b1", "b2", "b3", "b4")
	if !slices.Equal(got, want) {
		t.Errorf("Undelivered = %d events from %q; want the newest %d, from %q", len(got), got[:1], len(want), want[:1])
	}
}

// testUndeliverUnknown: Undeliver of a lease the store does not hold is
// ErrLeaseExpired, and an expired lease's events are pending, not
// undelivered.
func testUndeliverUnknown(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	if _, err := s.Undeliver(context.Background(), key1, p, "no-such-lease", t0); !errors.Is(err, alerts.ErrLeaseExpired) {
		t.Errorf("Undeliver(unknown lease) = %v; want ErrLeaseExpired", err)
	}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	late := g.Deadline
	if _, err := s.Undeliver(context.Background(), key1, p, g.Lease, late); !errors.Is(err, alerts.ErrLeaseExpired) {
		t.Errorf("Undeliver(expired lease) = %v; want ErrLeaseExpired", err)
	}
	if got := undelivered(t, s, key1); len(got) != 0 {
		t.Errorf("Undelivered = %q; want none", got)
	}
	if got := drain(t, s, key1, p, late); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Drain = %q; want [a], pending again", got)
	}
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
			// The lease runs out: its event is pending again, and the limit is
			// charged as if the send happened at the deadline.
			mustDeny(t, take(t, s, key1, p, g.Deadline), 1, g.Deadline.Add(time.Hour))
			after := g.Deadline.Add(time.Second)
			if err := late(g.Lease, after); !errors.Is(err, alerts.ErrLeaseExpired) {
				t.Fatalf("mode %s, call %d after the deadline = %v; want ErrLeaseExpired", p.Mode, j, err)
			}
			// The charge is gone: the event goes now, and no event was duplicated.
			g = take(t, s, key1, p, after)
			mustGrant(t, g, id)
			commit(t, s, key1, p, g.Lease, after)
			if got := undelivered(t, s, key1); len(got) != 0 {
				t.Fatalf("mode %s, call %d: Undelivered = %q; want none", p.Mode, j, got)
			}
		}
	}
}
