package redisstore_test

import (
	"os"
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// cluster is the Redis Cluster of three masters and three replicas that
// this package's tests share: it starts on first use and stops in TestMain.
var cluster redistest.SharedCluster

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Close()
	os.Exit(code)
}

// The conformance suite passes on a sharded cluster, through a cluster
// client, and every script it runs keeps to one hash slot.
func TestStoreConformanceReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	client := cl.ClusterClient(t)
	cl.ExpectScriptSlots(t, client)
	storetest.DigestStore(t, func(t *testing.T) digest.Store { return newStore(t, cl, client) })
}
