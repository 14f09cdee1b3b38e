package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

func TestSettingsStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		st, _ := newStore(t, srv, redisstore.Config{Client: client, Catalog: c})
		return st
	})
}

// On a Redis Cluster every script must keep to one hash slot: the suite
// passes there too, through a cluster client.
func TestSettingsStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		st, _ := newStore(t, srv, redisstore.Config{Client: client, Catalog: c})
		return st
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

// settingsBackend opens Stores on client under one new prefix, each with
// the catalog it is given: replicas deployed with different catalogs.
func settingsBackend(srv redistest.Keyspace, client redis.Scripter) storetest.NewSettingsBackend {
	return func(t *testing.T) func(*alerts.Catalog) alerts.SettingsStore {
		_, prefix := newStore(t, srv, redisstore.Config{Client: client})
		return func(c *alerts.Catalog) alerts.SettingsStore {
			st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix, Catalog: c})
			require.NoError(t, err, "redisstore.New")
			return st
		}
	}
}
