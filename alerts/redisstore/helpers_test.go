package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts/redisstore"
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
