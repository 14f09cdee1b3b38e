package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// LimitStore runs the conformance suite of [alerts.LimitStore]: the
// contract tests of alertstest.TestLimitStore, then the cases below, which
// matter most for a store on a server (large batches, tenants whose ids
// look like key syntax, events that must come back byte for byte).
func LimitStore(t *testing.T, newStore func(t *testing.T) alerts.LimitStore) {
	t.Run("Contract", func(t *testing.T) { alertstest.TestLimitStore(t, newStore) })
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	cases := []struct {
		name string
		run  func(t *testing.T, s alerts.LimitStore)
	}{
		{"LargeBatches", func(t *testing.T, s alerts.LimitStore) {
			// More events in one call than a Lua stack holds arguments.
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			g, err := s.Take(ctx, key, p, t0, time.Minute, nil)
			if err != nil || g.Lease != "" {
				t.Fatalf("Take(nothing) = %+v, %v; want no lease", g, err)
			}
			first := manyEvents("a", 2500)
			g, err = s.Take(ctx, key, p, t0, time.Minute, first)
			if err != nil || len(g.Events) != len(first) {
				t.Fatalf("Take(%d events) leased %d, %v; want all", len(first), len(g.Events), err)
			}
			second := manyEvents("b", 9000)
			g2, err := s.Take(ctx, key, p, t0, time.Minute, second)
			if err != nil || g2.Lease != "" || g2.Pending != len(second) {
				t.Fatalf("Take(%d events) = lease %q, pending %d, %v; want none and %d", len(second), g2.Lease, g2.Pending, err, len(second))
			}
			if err := s.GiveBack(ctx, key, p, g.Lease, t0); err != nil {
				t.Fatal(err)
			}
			got, err := s.Drain(ctx, key, p, t0)
			if err != nil {
				t.Fatal(err)
			}
			want := append(ids(first), ids(second)...)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("Drain returned %d events; want the %d given back, then the %d pending, in order", len(got), len(first), len(second))
			}
		}},
		{"TrickyTenants", func(t *testing.T, s alerts.LimitStore) {
			tenants := []string{"acme", "acme}", "{acme}", "acme:pend", "acme*", "*", "a b", "%61cme", "ü"}
			cats := []alerts.CategoryID{alerts.ActiveThreat, "active-threat:x", "*"}
			for i, tn := range tenants {
				for j, c := range cats {
					key := alerts.LimitKey{Tenant: tn, Category: c}
					evs := manyEvents(fmt.Sprint(i, "-", j, "-"), i+j+1)
					if _, err := s.Take(ctx, key, alerts.FrequencyLimit{Max: 1}, t0, time.Minute, evs[:1]); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Take(ctx, key, alerts.FrequencyLimit{Max: 1}, t0, time.Minute, evs[1:]); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, tn := range tenants {
				for j, c := range cats {
					key := alerts.LimitKey{Tenant: tn, Category: c}
					got, err := s.Drain(ctx, key, alerts.FrequencyLimit{Max: 1}, t0)
					want := ids(manyEvents(fmt.Sprint(i, "-", j, "-"), i+j+1)[1:])
					if err != nil || !slices.Equal(ids(got), want) {
						t.Errorf("Drain(%v) = %q, %v; want %q", key, ids(got), err, want)
					}
				}
			}
		}},
		{"EventsExact", func(t *testing.T, s alerts.LimitStore) {
			key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
			in := alerts.Event{
				ID: "\xff\x00id", Tenant: "acme", Category: alerts.ActiveThreat, Score: 4.000000001,
				Asset: "srv {1} *", Fingerprint: "fp\x00", Summary: "Ünïcödé\r\n<b>",
				Time: time.Date(2026, 3, 8, 2, 59, 59, 123456789, time.FixedZone("X", -5*3600)),
			}
			g, err := s.Take(ctx, key, p, t0, time.Minute, []alerts.Event{in})
			if err != nil || len(g.Events) != 1 {
				t.Fatalf("Take = %+v, %v", g, err)
			}
			out := g.Events[0]
			if !out.Time.Equal(in.Time) {
				t.Errorf("leased event time = %v; want %v", out.Time, in.Time)
			}
			out.Time, in.Time = time.Time{}, time.Time{}
			if out != in {
				t.Errorf("leased event = %+v; want %+v", out, in)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
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
