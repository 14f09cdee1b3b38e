package alertstest_test

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

func TestLeaseCheckerReportsOpenLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ft := &fakeTB{TB: t}
	s := alertstest.NewLeaseChecker(ft, nil)
	k := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	limit := alerts.FrequencyLimit{}.WithDefaults()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var leases []string
	for _, id := range []string{"a", "b", "c"} {
		g, err := s.Take(ctx, k, limit, now, time.Minute, []alerts.Event{{ID: id}})
		require.NoError(t, err, "Take")
		require.NotEmptyf(t, g.Lease, "Take = %+v; want a lease", g)
		leases = append(leases, g.Lease)
	}
	require.NoError(t, s.Commit(ctx, k, limit, leases[0], now), "Commit")
	require.NoError(t, s.GiveBack(ctx, k, limit, leases[1], now, now), "GiveBack")
	assert.Equal(t, leases[2:], s.Open(), "Open()")
	ft.end()
	want := fmt.Sprintf("alertstest: lease %q on acme/active-threat was neither committed nor given back", leases[2])
	assert.Equal(t, []string{want}, ft.errors, "what the cleanup reported")
}

// The wrapper passes the conformance tests of the store it wraps.
func TestLeaseCheckerConformance(t *testing.T) {
	t.Parallel()
	alertstest.TestLimitStore(t, func(t *testing.T) alerts.LimitStore {
		return alertstest.NewLeaseChecker(&fakeTB{TB: t}, nil)
	})
}
