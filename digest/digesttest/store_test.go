package digesttest_test

import (
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/digesttest"
)

func TestMemoryStore(t *testing.T) {
	digesttest.TestStore(t, func(*testing.T) digest.Store { return digest.NewMemoryStore() })
}

func TestMemoryStoreZeroValue(t *testing.T) {
	digesttest.TestStore(t, func(*testing.T) digest.Store { return new(digest.MemoryStore) })
}
