package redisstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redistest"
)

// newStore returns a Store made of cfg with a key prefix of its own on srv,
// so that tests sharing a server never meet, and the prefix, for tests
// that look at the keys themselves (a pattern without the prefix would
// match the keys of other tests). When the test ends it checks that every
// key the store left has a TTL.
func newStore(t *testing.T, srv redistest.Keyspace, cfg redisstore.Config) (*redisstore.Store, string) {
	t.Helper()
	cfg.Prefix = srv.Prefix(t)
	s, err := redisstore.New(cfg)
	require.NoError(t, err, "redisstore.New")
	srv.ExpectTTLs(t, cfg.Prefix)
	return s, cfg.Prefix
}

// limiterKey returns the name of key's limiter key of kind ("lim",
// "pend", "lease", "seen", "undl") under prefix, as the package
// documentation lays it out.
func limiterKey(t *testing.T, prefix string, key alerts.LimitKey, kind string) string {
	t.Helper()
	ks, err := rediskey.NewSpace(prefix)
	require.NoError(t, err)
	keys, _, err := ks.BucketKeys(key.Tenant, "category", string(key.Category), kind)
	require.NoErrorf(t, err, "the %s key of %v", kind, key)
	return keys[0]
}

// limiterPattern returns the pattern of all of tenant's limiter keys
// under prefix.
func limiterPattern(t *testing.T, prefix, tenant string) string {
	t.Helper()
	k := limiterKey(t, prefix, alerts.LimitKey{Tenant: tenant, Category: "c"}, "lim")
	return strings.TrimSuffix(k, "c:lim") + "*"
}

// dueIndex returns the name of the due index of tenant's bucket under
// prefix.
func dueIndex(t *testing.T, prefix, tenant string) string {
	t.Helper()
	ks, err := rediskey.NewSpace(prefix)
	require.NoError(t, err)
	return ks.BucketIndex(rediskey.Bucket(tenant), "due")
}
