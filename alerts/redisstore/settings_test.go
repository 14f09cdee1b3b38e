package redisstore_test

import (
	"testing"

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
