package digest_test

import (
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/digesttest"
)

// NewMemoryStore runs the whole conformance suite in
// storetest_memory_test.go (the contract of digesttest.TestStore and more);
// the zero value must pass the contract too.
func TestMemoryStoreZeroValue(t *testing.T) {
	t.Parallel()
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
