package alertstest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// fakeTB records what a helper reports and runs its cleanups on demand.
type fakeTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) end() {
	for _, fn := range slices.Backward(f.cleanups) {
		fn()
	}
}

func TestLimitStoreReportsOpenLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ft := &fakeTB{TB: t}
	s := alertstest.NewLeaseChecker(ft, nil)
	k := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var leases []string
	for _, id := range []string{"a", "b", "c"} {
		g, err := s.Take(ctx, k, alerts.FrequencyLimit{}.WithDefaults(), now, time.Minute, []alerts.Event{{ID: id}})
		if err != nil || g.Lease == "" {
			t.Fatalf("Take = %+v, %v; want a lease", g, err)
		}
		leases = append(leases, g.Lease)
	}
	if err := s.Commit(ctx, k, alerts.FrequencyLimit{}.WithDefaults(), leases[0], now); err != nil {
		t.Fatal(err)
	}
	if err := s.GiveBack(ctx, k, alerts.FrequencyLimit{}.WithDefaults(), leases[1], now); err != nil {
		t.Fatal(err)
	}
	if got := s.Open(); !slices.Equal(got, leases[2:]) {
		t.Errorf("Open() = %q; want %q", got, leases[2:])
	}
	ft.end()
	want := fmt.Sprintf("alertstest: lease %q on acme/active-threat was neither committed nor given back", leases[2])
	if !slices.Equal(ft.errors, []string{want}) {
		t.Errorf("cleanup reported %q; want %q", ft.errors, want)
	}
}

// The wrapper passes the conformance tests of the store it wraps.
func TestLimitStoreConformance(t *testing.T) {
	t.Parallel()
	alertstest.TestLimitStore(t, func(t *testing.T) alerts.LimitStore {
		return alertstest.NewLeaseChecker(&fakeTB{TB: t}, nil)
	})
}
