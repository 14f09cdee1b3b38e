package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

func TestSettingsStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		return newStore(t, srv, client).Settings(c)
	})
}

// On a Redis Cluster every script must keep to one hash slot: the suite
// passes there too, through a cluster client.
func TestSettingsStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		return newStore(t, srv, client).Settings(c)
	})
}

// Stored settings load under a catalog that changed since they were saved.
func TestSettingsStoreCatalogChange(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	storetest.SettingsCatalogChange(t, settingsBackend(srv, srv.Client(t)))
}

func TestSettingsStoreCatalogChangeCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	storetest.SettingsCatalogChange(t, settingsBackend(srv, srv.ClusterClient(t)))
}

// settingsBackend opens the settings stores of one new Store on client.
func settingsBackend(srv *redistest.Server, client redis.Scripter) storetest.NewSettingsBackend {
	return func(t *testing.T) func(*alerts.Catalog) alerts.SettingsStore {
		st := newStore(t, srv, client)
		return func(c *alerts.Catalog) alerts.SettingsStore { return st.Settings(c) }
	}
}
