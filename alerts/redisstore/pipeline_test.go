package redisstore_test

import (
	"testing"

	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// The pipeline end to end on Redis: four dispatchers running Run on one
// store, 2,000 events across 50 tenants, one in ten delivered twice to
// different replicas (see storetest.Pipeline).

func TestPipeline(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	st, _ := newStore(t, srv, redisstore.Config{Client: srv.Client(t)})
	storetest.Pipeline(t, st)
}

func TestPipelineReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	st, _ := newStore(t, cl, redisstore.Config{Client: cl.ClusterClient(t)})
	storetest.Pipeline(t, st)
}
