package digest_test

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

func TestClaimStatusString(t *testing.T) {
	t.Parallel()
	for s, want := range map[digest.ClaimStatus]string{
		digest.Claimed: "claimed", digest.Busy: "busy", digest.AlreadySent: "already-sent", 0: "ClaimStatus(0)",
	} {
		if got := s.String(); got != want {
			t.Errorf("ClaimStatus(%d).String() = %q; want %q", int(s), got, want)
		}
	}
}
