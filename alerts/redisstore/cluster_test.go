package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
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

// The conformance suites pass on a sharded cluster, through a cluster
// client, and every script they run keeps to one hash slot.
func TestLimitStoreConformanceReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	client := cl.ClusterClient(t)
	cl.ExpectScriptSlots(t, client)
	storetest.LimitStore(t, func(t *testing.T) alerts.LimitStore {
		st, _ := newStore(t, cl, redisstore.Config{Client: client})
		return st
	})
}

func TestSettingsStoreConformanceReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	client := cl.ClusterClient(t)
	cl.ExpectScriptSlots(t, client)
	storetest.Settings(t, func(t *testing.T, c *alerts.Catalog) alerts.SettingsStore {
		st, _ := newStore(t, cl, redisstore.Config{Client: client, Catalog: c})
		return st
	})
}

func TestSettingsStoreCatalogChangeReplicatedCluster(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	client := cl.ClusterClient(t)
	cl.ExpectScriptSlots(t, client)
	storetest.SettingsCatalogChange(t, settingsBackend(cl, client))
}

// TestTenantsSpread checks that the hash tags spread tenants over the
// shards: 1,000 tenants' limit keys, in the tenants' buckets, land on all
// three masters, each tenant's keys on one master only, and so do the due
// indexes of the buckets (each master has some, so that Due visits every
// master).
func TestTenantsSpread(t *testing.T) {
	t.Parallel()
	cl := cluster.Get(t)
	client := cl.ClusterClient(t)
	cl.ExpectScriptSlots(t, client)
	st, prefix := newStore(t, cl, redisstore.Config{Client: client})
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := alerts.FrequencyLimit{Max: 1, Period: time.Hour}
	const tenants = 1000
	for i := range tenants {
		tenant := fmt.Sprintf("tenant-%04d", i)
		key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
		evs := []alerts.Event{{ID: "a", Tenant: tenant, Category: alerts.ActiveThreat}}
		g, err := st.Take(ctx, key, p, t0, time.Minute, evs)
		require.NoErrorf(t, err, "Take(%v)", key)
		require.NotEmptyf(t, g.Lease, "Take(%v) = %+v; want a lease", key, g)
		require.NoErrorf(t, st.Commit(ctx, key, p, g.Lease, t0), "Commit(%v)", key)
	}

	where := map[string]string{} // tenant → the master holding its keys
	perMaster := map[string]int{}
	masters := cl.Masters(t)
	require.Lenf(t, masters, 3, "Masters() = %d nodes; want 3", len(masters))
	indexes := map[string]int{} // master → due indexes
	for _, m := range masters {
		for _, k := range m.Keys(t, prefix+":*") {
			tenant, ok := ownerOf(k)
			if !ok {
				indexes[m.Addr]++
				continue
			}
			if at, ok := where[tenant]; ok && at != m.Addr {
				t.Errorf("tenant %q has keys on masters %s and %s; want one", tenant, at, m.Addr)
			}
			if _, ok := where[tenant]; !ok {
				perMaster[m.Addr]++
			}
			where[tenant] = m.Addr
		}
	}
	assert.Lenf(t, where, tenants, "tenants with keys = %d; want %d", len(where), tenants)
	for _, m := range masters {
		// About a third each; a master with under a fifth means the keys
		// do not spread by tenant.
		assert.GreaterOrEqualf(t, perMaster[m.Addr], tenants/5,
			"master %s holds %d of %d tenants; want about a third (all: %v)", m.Addr, perMaster[m.Addr], tenants, perMaster)
	}

	// Every tenant's key is due: the due indexes of the buckets hold them,
	// on every master.
	now := t0.Add(2 * time.Hour)
	for i := range tenants {
		tenant := fmt.Sprintf("tenant-%04d", i)
		key := alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}
		_, err := st.Queue(ctx, key, p, now, []alerts.Event{{ID: "b", Tenant: tenant, Category: alerts.ActiveThreat}})
		require.NoErrorf(t, err, "Queue(%v)", key)
	}
	clear(indexes)
	for _, m := range masters {
		for _, k := range m.Keys(t, prefix+":*") {
			if _, ok := ownerOf(k); !ok {
				indexes[m.Addr]++
			}
		}
	}
	for _, m := range masters {
		assert.Positivef(t, indexes[m.Addr], "master %s holds no due index (all: %v); want some on each", m.Addr, indexes)
	}
	var got []alerts.LimitKey
	for {
		keys, _, err := st.Due(ctx, now, 300, time.Hour)
		require.NoError(t, err, "Due")
		if len(keys) == 0 {
			break
		}
		got = append(got, keys...)
	}
	assert.Lenf(t, got, tenants, "Due over the cluster returned %d keys; want the %d due", len(got), tenants)
}

// ownerOf returns the tenant part of key: its hash tag, or, for a limiter
// key in a bucket ("{b:<bucket>}:<tenant>:..."), the part after the tag;
// ok is false for a bucket's due index, which is no tenant's.
func ownerOf(key string) (string, bool) {
	_, rest, _ := strings.Cut(key, "{")
	tag, after, _ := strings.Cut(rest, "}")
	if !strings.HasPrefix(tag, "b:") {
		return tag, true
	}
	owner, _, ok := strings.Cut(strings.TrimPrefix(after, ":"), ":")
	return owner, ok
}
