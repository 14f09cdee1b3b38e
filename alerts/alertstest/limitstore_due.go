package alertstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// The conformance tests of the parts of the alerts.LimitStore contract
// that the pipeline relies on: idempotent events, the failure count,
// Queue, and the due index with its claims. TestLimitStore runs them.

// window is the dedup window of the stores under test.
const window = alerts.DefaultDedupWindow

// tkey returns the key of tenant "t<i>" in key1's category.
func tkey(i int) alerts.LimitKey {
	return alerts.LimitKey{Tenant: fmt.Sprint("t", i), Category: key1.Category}
}

func takeEvents(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, evs []alerts.Event) alerts.Grant {
	t.Helper()
	g, err := s.Take(context.Background(), k, p, now, ttl, evs)
	require.NoErrorf(t, err, "Take(%v, %v, %d events)", k, now, len(evs))
	return g
}

func queue(t *testing.T, s alerts.LimitStore, k alerts.LimitKey, p alerts.FrequencyLimit, now time.Time, evIDs ...string) alerts.Grant {
	t.Helper()
	g, err := s.Queue(context.Background(), k, p, now, events(evIDs...))
	require.NoErrorf(t, err, "Queue(%v, %v, %v)", k, now, evIDs)
	require.Truef(t, g.Lease == "" && g.Events == nil, "Queue(%v, %v, %v) = lease %q on %q; want none", k, now, evIDs, g.Lease, ids(g.Events))
	return g
}

// mustDup checks that g holds no lease, dups duplicates and pending events.
func mustDup(t *testing.T, g alerts.Grant, dups, pending int) {
	t.Helper()
	require.Emptyf(t, g.Lease, "Take = lease %q on %q; want none (%d duplicates)", g.Lease, ids(g.Events), dups)
	assert.Equalf(t, dups, g.Duplicates, "Take: Duplicates = %d; want %d", g.Duplicates, dups)
	assert.Equalf(t, pending, g.Pending, "Take: Pending = %d; want %d", g.Pending, pending)
}

// due calls s.Due and fails t on an error.
func due(t *testing.T, s alerts.LimitStore, now time.Time, max int, claim time.Duration) ([]alerts.LimitKey, time.Time) {
	t.Helper()
	keys, next, err := s.Due(context.Background(), now, max, claim)
	require.NoErrorf(t, err, "Due(%v, %d, %v)", now, max, claim)
	return keys, next
}

// mustDue checks that Due at now with a claim of an hour returns exactly
// want (in any order) and next.
func mustDue(t *testing.T, s alerts.LimitStore, now time.Time, next time.Time, want ...alerts.LimitKey) {
	t.Helper()
	keys, got := due(t, s, now, 100, time.Hour)
	assert.ElementsMatchf(t, want, keys, "Due(%v) = %v; want %v", now, keys, want)
	assert.Truef(t, got.Equal(next), "Due(%v): next = %v; want %v", now, got, next)
}

// testDuplicatesHeld: an event whose ID the key holds (leased, pending,
// undelivered, requeued, back from an expired lease) is a duplicate.
func testDuplicatesHeld(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	mustDup(t, take(t, s, key1, p, t0, "a"), 1, 0)
	mustDeny(t, take(t, s, key1, p, t0, "b"), 1, t0)
	mustDup(t, take(t, s, key1, p, t0, "b"), 1, 1)
	undeliver(t, s, key1, p, g.Lease, t0)
	// The slot is free and b pending, but a redelivery of a, refused for
	// good and kept on the undelivered list, sends nothing.
	mustDup(t, take(t, s, key1, p, t0, "a"), 1, 1)
	requeue(t, s, key1, p, t0)
	mustDup(t, take(t, s, key1, p, t0, "a", "b"), 2, 2)
	g = take(t, s, key1, p, t0)
	mustGrant(t, g, "a", "b")
	// The lease expires: its events are pending again, and still the key's.
	mustDup(t, take(t, s, key1, p, g.Deadline, "b"), 1, 2)
	got := drain(t, s, key1, p, g.Deadline)
	assert.Equalf(t, []string{"a", "b"}, got, "Drain = %q; want [a b], each once", got)
}

// testDuplicatesWindow: an event sent is a duplicate for the dedup window
// after its Commit, and a new event after it.
func testDuplicatesWindow(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	commit(t, s, key1, p, g.Lease, t0)
	mustDup(t, take(t, s, key1, p, t0.Add(2*time.Hour), "a"), 1, 0)
	mustDup(t, take(t, s, key1, p, t0.Add(window-time.Nanosecond), "a"), 1, 0)
	g = take(t, s, key1, p, t0.Add(window), "a")
	mustGrant(t, g, "a")
	assert.Zerof(t, g.Duplicates, "Take(a) at the end of the window: Duplicates = %d; want 0", g.Duplicates)
}

// testDuplicatesBatch: an ID twice in one call is taken once.
func testDuplicatesBatch(t *testing.T, s alerts.LimitStore) {
	g := take(t, s, key1, dflt, t0, "a", "b", "a", "c", "b")
	mustGrant(t, g, "a", "b", "c")
	assert.Equalf(t, 2, g.Duplicates, "Take(a b a c b): Duplicates = %d; want 2", g.Duplicates)
	g = take(t, s, key1, dflt, t0, "c", "d", "d")
	mustGrant(t, g, "d")
	assert.Equalf(t, 2, g.Duplicates, "Take(c d d): Duplicates = %d; want 2", g.Duplicates)
}

// testAllDuplicates: a Take whose events are all duplicates leases
// nothing, even when the limit allows a send and events are pending.
func testAllDuplicates(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	giveBack(t, s, key1, p, g.Lease, t0)
	d := take(t, s, key1, p, t0, "a")
	mustDup(t, d, 1, 1)
	assert.Truef(t, d.Next.Equal(t0), "Take(a), a duplicate: Next = %v; want %v (the limit allows a send)", d.Next, t0)
	q := queue(t, s, key1, p, t0, "a")
	assert.Truef(t, q.Duplicates == 1 && q.Pending == 1, "Queue(a) = %d duplicates, %d pending; want 1 and 1", q.Duplicates, q.Pending)
	// With one new event the email goes, and carries a once.
	g = take(t, s, key1, p, t0, "a", "b")
	mustGrant(t, g, "a", "b")
	assert.Equalf(t, 1, g.Duplicates, "Take(a b): Duplicates = %d; want 1", g.Duplicates)
}

// testNoID: events without an ID are never duplicates, however alike.
func testNoID(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	ev := alerts.Event{Tenant: key1.Tenant, Category: key1.Category, Score: 5, Summary: "no id", Time: t0}
	g := takeEvents(t, s, key1, p, t0, []alerts.Event{ev})
	require.NotEmptyf(t, g.Lease, "Take(an event without ID) = %+v; want a lease", g)
	g2 := takeEvents(t, s, key1, p, t0, []alerts.Event{ev, ev})
	mustDup(t, g2, 0, 2)
	commit(t, s, key1, p, g.Lease, t0)
	mustDup(t, takeEvents(t, s, key1, p, t0, []alerts.Event{ev}), 0, 3)
	evs, err := s.Drain(context.Background(), key1, p, t0)
	require.NoError(t, err, "Drain")
	assert.Lenf(t, evs, 3, "Drain = %d events; want 3", len(evs))
}

// testDrainDropWindow: drained and dropped events are duplicates for the
// dedup window after they left.
func testDrainDropWindow(t *testing.T, s alerts.LimitStore) {
	queue(t, s, key1, dflt, t0, "b", "c")
	got := drain(t, s, key1, dflt, t0)
	require.Equalf(t, []string{"b", "c"}, got, "Drain = %q; want [b c]", got)
	later := t0.Add(time.Minute)
	queue(t, s, key1, dflt, later, "d")
	n, err := s.Drop(context.Background(), key1, dflt, later)
	require.NoError(t, err, "Drop")
	require.Equalf(t, 1, n, "Drop = %d; want 1", n)
	for _, tc := range []struct {
		at            time.Time
		dups, pending int
	}{
		{t0.Add(window - time.Nanosecond), 3, 0},
		{t0.Add(window), 1, 2},    // b and c are new again, d is not
		{later.Add(window), 2, 3}, // b and c are pending, d is new
	} {
		q, err := s.Queue(context.Background(), key1, dflt, tc.at, events("b", "c", "d"))
		require.NoErrorf(t, err, "Queue(b c d) at %v", tc.at)
		assert.Truef(t, q.Duplicates == tc.dups && q.Pending == tc.pending,
			"Queue(b c d) at %v = %d duplicates, %d pending; want %d and %d", tc.at, q.Duplicates, q.Pending, tc.dups, tc.pending)
	}
}

// testFailures: Grant.Failures counts the sends given back since the last
// Commit or Undeliver.
func testFailures(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	steps := []struct {
		ids      []string
		end      string // how the lease ends
		failures int    // Grant.Failures of the Take
	}{
		{[]string{"a"}, "giveback", 0},
		{nil, "giveback", 1},
		{nil, "commit", 2},
		{[]string{"b"}, "giveback", 0},
		{nil, "undeliver", 1},
		{[]string{"c"}, "commit", 0},
	}
	now := t0
	for i, st := range steps {
		g := take(t, s, key1, p, now, st.ids...)
		require.NotEmptyf(t, g.Lease, "step %d: Take = %+v; want a lease", i, g)
		assert.Equalf(t, st.failures, g.Failures, "step %d: Take: Failures = %d; want %d", i, g.Failures, st.failures)
		var err error
		switch st.end {
		case "giveback":
			err = s.GiveBack(ctx, key1, p, g.Lease, now, now)
		case "undeliver":
			_, err = s.Undeliver(ctx, key1, p, g.Lease, now)
		default:
			err = s.Commit(ctx, key1, p, g.Lease, now)
			now = now.Add(p.Period)
		}
		require.NoErrorf(t, err, "step %d: %s", i, st.end)
	}
}

// testQueue: Queue appends and never leases; Next is when the limit
// allows a send, now if it allows one now.
func testQueue(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	mustDeny(t, queue(t, s, key1, p, t0, "a"), 1, t0)
	mustDeny(t, queue(t, s, key1, p, t0, "b"), 2, t0)
	mustDue(t, s, t0, t0.Add(time.Hour), key1)
	g := take(t, s, key1, p, t0)
	mustGrant(t, g, "a", "b")
	// Only the lease stands in the way: Next is now.
	mustDeny(t, queue(t, s, key1, p, t0, "c"), 1, t0)
	commit(t, s, key1, p, g.Lease, t0)
	later := t0.Add(time.Minute)
	mustDeny(t, queue(t, s, key1, p, later, "d"), 2, t0.Add(time.Hour))
	mustDeny(t, queue(t, s, key1, p, later), 2, t0.Add(time.Hour))
	got := drain(t, s, key1, p, later)
	assert.Equalf(t, []string{"c", "d"}, got, "Drain = %q; want [c d]", got)
	mustDeny(t, queue(t, s, key1, p, later), 0, time.Time{})
}

// testDueCooling: a key with events pending falls due when its cooling
// period ends.
func testDueCooling(t *testing.T, s alerts.LimitStore) {
	sendN(t, s, key1, dflt, t0, 5, "e")
	end := t0.Add(4 * time.Hour)
	mustDue(t, s, t0, time.Time{})
	mustDeny(t, take(t, s, key1, dflt, t0.Add(time.Hour), "x"), 1, end)
	mustDue(t, s, end.Add(-time.Nanosecond), end)
	mustDue(t, s, end, end.Add(time.Hour), key1)
}

// testDueLease: a key with a lease out falls due at its deadline.
func testDueLease(t *testing.T, s alerts.LimitStore) {
	g := take(t, s, key1, dflt, t0, "a")
	mustGrant(t, g, "a")
	mustDue(t, s, t0, g.Deadline)
	mustDue(t, s, g.Deadline.Add(-time.Nanosecond), g.Deadline)
	mustDue(t, s, g.Deadline, g.Deadline.Add(time.Hour), key1)
}

// testDueRetry: after a GiveBack the key falls due at the retry time, not
// before it even if the limit allows a send; a lease taken clears it.
func testDueRetry(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	g := take(t, s, key1, dflt, t0, "a")
	mustGrant(t, g, "a")
	retry := t0.Add(10 * time.Minute)
	require.NoError(t, s.GiveBack(ctx, key1, dflt, g.Lease, t0, retry), "GiveBack")
	mustDue(t, s, t0, retry)
	mustDeny(t, queue(t, s, key1, dflt, t0.Add(time.Minute), "b"), 2, retry)
	mustDue(t, s, retry.Add(-time.Nanosecond), retry)
	mustDue(t, s, retry, retry.Add(time.Hour), key1)
	// The flush takes a lease: the retry time is gone, and with it the
	// claim; the key is due at the lease's deadline.
	g = take(t, s, key1, dflt, retry)
	mustGrant(t, g, "a", "b")
	mustDue(t, s, retry, g.Deadline)
	commit(t, s, key1, dflt, g.Lease, retry)
	mustDeny(t, queue(t, s, key1, dflt, retry, "c"), 1, retry)
	mustDue(t, s, retry, retry.Add(time.Hour), key1)
}

// testNotDue: a key with nothing pending and no lease out is not due:
// after a Commit, a Drain, a Drop.
func testNotDue(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	g := take(t, s, key1, dflt, t0, "a")
	mustGrant(t, g, "a")
	commit(t, s, key1, dflt, g.Lease, t0)
	mustDue(t, s, t0, time.Time{})
	queue(t, s, key1, dflt, t0, "b")
	drain(t, s, key1, dflt, t0)
	mustDue(t, s, t0, time.Time{})
	queue(t, s, key1, dflt, t0, "c")
	_, err := s.Drop(ctx, key1, dflt, t0)
	require.NoError(t, err, "Drop")
	mustDue(t, s, t0, time.Time{})
	// Given back, then drained: nothing left to retry.
	g = take(t, s, key1, dflt, t0, "d")
	require.NoError(t, s.GiveBack(ctx, key1, dflt, g.Lease, t0, t0.Add(time.Minute)), "GiveBack")
	drain(t, s, key1, dflt, t0)
	mustDue(t, s, t0.Add(time.Hour), time.Time{})
}

// testDueBlocked: events that wait only for another lease add nothing to
// the due time: the lease's deadline is it, and the lease's end
// recomputes it.
func testDueBlocked(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	g := take(t, s, key1, p, t0, "a")
	mustGrant(t, g, "a")
	mustDeny(t, take(t, s, key1, p, t0, "b"), 1, t0)
	mustDue(t, s, t0, g.Deadline)
	later := t0.Add(10 * time.Second)
	giveBack(t, s, key1, p, g.Lease, later)
	mustDue(t, s, later, later.Add(time.Hour), key1)
}

// testDueClaims: Due hands a due key out once until the claim ends, again
// after it when nobody took it; a Take ends the claim.
func testDueClaims(t *testing.T, s alerts.LimitStore) {
	const claim = time.Hour
	queue(t, s, key1, dflt, t0, "a")
	mustDue(t, s, t0, t0.Add(claim), key1)
	mustDue(t, s, t0.Add(time.Minute), t0.Add(claim))
	mustDue(t, s, t0.Add(claim-time.Nanosecond), t0.Add(claim))
	// Nobody took it: due again.
	mustDue(t, s, t0.Add(claim), t0.Add(2*claim), key1)
	g := take(t, s, key1, dflt, t0.Add(claim))
	mustGrant(t, g, "a")
	mustDue(t, s, g.Deadline, g.Deadline.Add(claim), key1)
}

// testDueNext: next is the earliest due time of any key, claims included.
func testDueNext(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	cooling, leased, now := tkey(1), tkey(2), tkey(3)
	g := take(t, s, cooling, p, t0, "a")
	commit(t, s, cooling, p, g.Lease, t0)
	queue(t, s, cooling, p, t0, "b") // due at t0+1h
	g = take(t, s, leased, p, t0, "c")
	require.NotEmpty(t, g.Lease, "Take(c)") // due at t0+1m
	queue(t, s, now, p, t0, "d")            // due at t0
	const claim = 30 * time.Minute
	keys, next := due(t, s, t0, 10, claim)
	assert.Equalf(t, []alerts.LimitKey{now}, keys, "Due(t0) = %v; want %v", keys, now)
	assert.Truef(t, next.Equal(t0.Add(time.Minute)), "Due(t0): next = %v; want the lease deadline %v", next, t0.Add(time.Minute))
	keys, next = due(t, s, t0.Add(time.Minute), 10, claim)
	assert.Equalf(t, []alerts.LimitKey{leased}, keys, "Due(t0+1m) = %v; want %v", keys, leased)
	assert.Truef(t, next.Equal(t0.Add(claim)), "Due(t0+1m): next = %v; want the first claim's end %v", next, t0.Add(claim))
}

// testDueMax: Due returns at most max keys, each once.
func testDueMax(t *testing.T, s alerts.LimitStore) {
	var all []alerts.LimitKey
	for i := range 5 {
		queue(t, s, tkey(i), dflt, t0, "a")
		all = append(all, tkey(i))
	}
	var got []alerts.LimitKey
	for _, want := range []int{2, 2, 1, 0} {
		keys, _ := due(t, s, t0, 2, time.Hour)
		require.Lenf(t, keys, want, "Due(max 2) after %d keys = %v; want %d keys", len(got), keys, want)
		got = append(got, keys...)
	}
	assert.ElementsMatchf(t, all, got, "Due handed out %v; want each of %v once", got, all)
}

// testDueConcurrent: callers of Due at the same time get disjoint keys,
// and together all of them.
func testDueConcurrent(t *testing.T, s alerts.LimitStore) {
	const keys, callers = 200, 8
	var all []alerts.LimitKey
	for i := range keys {
		queue(t, s, tkey(i), dflt, t0, "a")
		all = append(all, tkey(i))
	}
	var (
		mu  sync.Mutex
		got []alerts.LimitKey
		wg  sync.WaitGroup
	)
	for range callers {
		wg.Go(func() {
			for {
				ks, next, err := s.Due(context.Background(), t0, 7, time.Hour)
				if !assert.NoError(t, err, "Due") {
					return
				}
				mu.Lock()
				got = append(got, ks...)
				mu.Unlock()
				if len(ks) == 0 && (next.IsZero() || next.After(t0)) {
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Lenf(t, got, keys, "%d callers of Due got %d keys; want each of the %d once", callers, len(got), keys)
	assert.ElementsMatch(t, all, got, "keys handed out")
}

// testDueFew: among 1,000 keys, of which 10 are due, Due returns exactly
// those.
func testDueFew(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	var want []alerts.LimitKey
	for i := range 1000 {
		k := tkey(i)
		if i%100 == 7 {
			queue(t, s, k, p, t0, "a")
			want = append(want, k)
			continue
		}
		g := take(t, s, k, p, t0, "a")
		require.NotEmptyf(t, g.Lease, "Take(%v) = %+v; want a lease", k, g)
		commit(t, s, k, p, g.Lease, t0)
		if i%2 == 0 {
			queue(t, s, k, p, t0, "b") // due at the end of the cooling period
		}
	}
	keys, next := due(t, s, t0, 100, 2*time.Hour)
	assert.ElementsMatchf(t, want, keys, "Due(t0) among 1,000 keys = %v; want %v", keys, want)
	assert.Truef(t, next.Equal(t0.Add(time.Hour)), "Due(t0): next = %v; want %v", next, t0.Add(time.Hour))
	keys, _ = due(t, s, t0, 100, 2*time.Hour)
	assert.Emptyf(t, keys, "Due(t0) again = %v; want none (claimed)", keys)
}

// testDueArgs: Due refuses a max or a claim that is not positive.
func testDueArgs(t *testing.T, s alerts.LimitStore) {
	queue(t, s, key1, dflt, t0, "a")
	for _, tc := range []struct {
		max   int
		claim time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {1, 0}, {1, -time.Second}} {
		keys, _, err := s.Due(context.Background(), t0, tc.max, tc.claim)
		assert.Errorf(t, err, "Due(max %d, claim %v) = %v; want an error", tc.max, tc.claim, keys)
	}
	mustDue(t, s, t0, t0.Add(time.Hour), key1)
}
