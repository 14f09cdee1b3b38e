package redisstore_test

import (
	"testing"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

func TestLimitStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		return newStore(t, srv, client).Limits()
	})
}

func TestLimitStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		return newStore(t, srv, client).Limits()
	})
}
