package digest_test

import (
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/storetest"
)

// The in-memory store passes the same conformance suite as the Redis one
// (see package digest/redisstore).
func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.DigestStore(t, func(*testing.T) digest.Store { return digest.NewMemoryStore() })
}
