package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// limitCases are the cases LimitStore adds to the contract tests, by name:
// those that matter most for a store on a server.
var limitCases = []struct {
	name string
	run  func(t *testing.T, s alerts.LimitStore)
}{
	{"LargeBatches", largeBatches},
	{"TrickyTenants", trickyTenants},
	{"EventsExact", eventsExact},
	{"LargeUndeliver", largeUndeliver},
}

// t0 is the time the cases start at.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// LimitStore runs the conformance suite of [alerts.LimitStore]: the
// contract tests of alertstest.TestLimitStore, then the cases below, which
// matter most for a store on a server (large batches, tenants whose ids
// look like key syntax, events that must come back byte for byte, an
// undelivered list past its cap).
func LimitStore(t *testing.T, newStore func(t *testing.T) alerts.LimitStore) {
	t.Run("Contract", func(t *testing.T) { alertstest.TestLimitStore(t, newStore) })
	for _, c := range limitCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// largeBatches: more events in one call than a Lua stack holds arguments
// are leased, kept pending and drained, in order.
func largeBatches(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	g, err := s.Take(ctx, key, p, t0, time.Minute, nil)
	require.NoError(t, err, "Take(nothing)")
	require.Emptyf(t, g.Lease, "Take(nothing) = %+v; want no lease", g)
	first := manyEvents("a", 2500)
	g, err = s.Take(ctx, key, p, t0, time.Minute, first)
	require.NoErrorf(t, err, "Take(%d events)", len(first))
	require.Lenf(t, g.Events, len(first), "Take(%d events) leased %d; want all", len(first), len(g.Events))
	second := manyEvents("b", 9000)
	g2, err := s.Take(ctx, key, p, t0, time.Minute, second)
	require.NoErrorf(t, err, "Take(%d events)", len(second))
	require.Truef(t, g2.Lease == "" && g2.Pending == len(second),
		"Take(%d events) = lease %q, pending %d; want none and %d", len(second), g2.Lease, g2.Pending, len(second))
	require.NoError(t, s.GiveBack(ctx, key, p, g.Lease, t0, t0), "GiveBack")
	got, err := s.Drain(ctx, key, p, t0)
	require.NoError(t, err, "Drain")
	want := append(ids(first), ids(second)...)
	require.Truef(t, slices.Equal(want, ids(got)),
		"Drain returned %d events; want the %d given back, then the %d pending, in order", len(got), len(first), len(second))
}

// largeUndeliver: a lease of more events than the undelivered list holds
// (and than a Lua stack holds arguments) keeps its newest
// alerts.MaxUndelivered, reports the rest as discarded (their IDs
// duplicates for the dedup window), and requeued they come back in order.
func largeUndeliver(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	evs := manyEvents("u", 2500)
	g, err := s.Take(ctx, key, p, t0, time.Minute, evs)
	require.NoErrorf(t, err, "Take(%d events)", len(evs))
	require.Lenf(t, g.Events, len(evs), "Take(%d events) leased %d; want all", len(evs), len(g.Events))
	dropped, err := s.Undeliver(ctx, key, p, g.Lease, t0)
	require.NoError(t, err, "Undeliver")
	assert.Equalf(t, len(evs)-alerts.MaxUndelivered, dropped, "Undeliver of %d events: discarded", len(evs))
	kept := ids(evs[len(evs)-alerts.MaxUndelivered:])
	// The discarded events left the key: their IDs are duplicates for the
	// dedup window, as those of the events kept are while they are kept.
	q, err := s.Queue(ctx, key, p, t0, []alerts.Event{evs[0], evs[len(evs)-alerts.MaxUndelivered-1], evs[len(evs)-1]})
	require.NoError(t, err, "Queue of two discarded and a kept event")
	assert.Equalf(t, 3, q.Duplicates, "Queue of two discarded and a kept event: Duplicates = %d; want 3", q.Duplicates)
	later := t0.Add(alerts.DefaultDedupWindow)
	q, err = s.Queue(ctx, key, p, later, evs[:1])
	require.NoError(t, err, "Queue of a discarded event after the window")
	assert.Equalf(t, 0, q.Duplicates, "Queue of a discarded event after the window: Duplicates = %d; want 0", q.Duplicates)
	_, err = s.Drain(ctx, key, p, later)
	require.NoError(t, err, "Drain")
	got, err := s.Undelivered(ctx, key)
	require.NoError(t, err, "Undelivered")
	assert.Truef(t, slices.Equal(kept, ids(got)), "Undelivered returned %d events; want the newest %d, in order", len(got), len(kept))
	n, err := s.Requeue(ctx, key, p, later)
	require.NoError(t, err, "Requeue")
	assert.Equal(t, alerts.MaxUndelivered, n, "Requeue: events moved")
	got, err = s.Drain(ctx, key, p, later)
	require.NoError(t, err, "Drain")
	assert.Truef(t, slices.Equal(kept, ids(got)), "Drain after Requeue returned %d events; want the %d requeued, in order", len(got), len(kept))
}

// trickyTenants: tenants and categories whose ids look like key syntax
// each keep their own pending events.
func trickyTenants(t *testing.T, s alerts.LimitStore) {
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1}
	tenants := []string{"acme", "acme}", "{acme}", "acme:pend", "acme*", "*", "a b", "%61cme", "ü"}
	cats := []alerts.CategoryID{alerts.ActiveThreat, "active-threat:x", "*"}
	// events returns the events of tenant i and category j: the first is
	// leased, the others stay pending.
	events := func(i, j int) []alerts.Event { return manyEvents(fmt.Sprint(i, "-", j, "-"), i+j+1) }
	for i, tn := range tenants {
		for j, c := range cats {
			key := alerts.LimitKey{Tenant: tn, Category: c}
			evs := events(i, j)
			_, err := s.Take(ctx, key, p, t0, time.Minute, evs[:1])
			require.NoErrorf(t, err, "Take(%v)", key)
			_, err = s.Take(ctx, key, p, t0, time.Minute, evs[1:])
			require.NoErrorf(t, err, "Take(%v)", key)
		}
	}
	for i, tn := range tenants {
		for j, c := range cats {
			key := alerts.LimitKey{Tenant: tn, Category: c}
			got, err := s.Drain(ctx, key, p, t0)
			want := ids(events(i, j)[1:])
			if assert.NoErrorf(t, err, "Drain(%v)", key) {
				assert.Equalf(t, want, ids(got), "Drain(%v) = %q; want %q", key, ids(got), want)
			}
		}
	}
}

// eventsExact: an event comes back from a lease byte for byte, invalid
// UTF-8, NUL bytes and its time's nanoseconds included.
func eventsExact(t *testing.T, s alerts.LimitStore) {
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	in := alerts.Event{
		ID: "\xff\x00id", Tenant: "acme", Category: alerts.ActiveThreat, Score: 4.000000001,
		Asset: "srv {1} *", Fingerprint: "fp\x00", Summary: "Ünïcödé\r\n<b>",
		Time: time.Date(2026, 3, 8, 2, 59, 59, 123456789, time.FixedZone("X", -5*3600)),
	}
	g, err := s.Take(context.Background(), key, p, t0, time.Minute, []alerts.Event{in})
	require.NoError(t, err, "Take")
	require.Lenf(t, g.Events, 1, "Take = %+v; want one leased event", g)
	out := g.Events[0]
	assert.Truef(t, out.Time.Equal(in.Time), "leased event time = %v; want %v", out.Time, in.Time)
	out.Time, in.Time = time.Time{}, time.Time{}
	assert.Equalf(t, in, out, "leased event = %+v; want %+v", out, in)
}

func manyEvents(prefix string, n int) []alerts.Event {
	evs := make([]alerts.Event, n)
	for i := range evs {
		evs[i] = alerts.Event{ID: fmt.Sprint(prefix, i), Tenant: "acme", Category: alerts.ActiveThreat, Score: 9}
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
