package alerts_test

import (
	"testing"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/storetest"
)

// The in-memory stores pass the same conformance suites as the Redis ones
// (see package alerts/redisstore).

func TestMemorySettingsStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		return alerts.NewMemorySettingsStore(c)
	})
}

func TestMemoryLimitStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.LimitStore(t, func(*testing.T) alerts.LimitStore { return new(alerts.MemoryLimitStore) })
}

func TestMemoryLimitStorePipeline(t *testing.T) {
	t.Parallel()
	storetest.Pipeline(t, new(alerts.MemoryLimitStore))
}
