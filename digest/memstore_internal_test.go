package digest

import (
	"fmt"
	"testing"
	"time"
)

// TestMemoryStoreReadsKeepNothing: asking about tenants that have no state
// (a console listing pending items, a mailer releasing a lease it never
// got) leaves the store as it was, so that the map of tenants grows only
// with tenants that were written to.
func TestMemoryStoreReadsKeepNothing(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore()
	ctx := t.Context()
	for i := range 100 {
		tenant := fmt.Sprint("tenant-", i)
		if items, through, err := s.Pending(ctx, tenant); err != nil || len(items) != 0 || through != 0 {
			t.Fatalf("Pending(%q) = %v, %d, %v; want none, 0, nil", tenant, items, through, err)
		}
		if got, err := s.Reported(ctx, tenant, []ItemKey{{1}, {2}}, time.Time{}); err != nil || len(got) != 2 || got[0] || got[1] {
			t.Fatalf("Reported(%q) = %v, %v; want [false false], nil", tenant, got, err)
		}
		if err := s.Release(ctx, tenant, "token"); err != nil {
			t.Fatalf("Release(%q): %v", tenant, err)
		}
		if err := s.Append(ctx, tenant, nil); err != nil {
			t.Fatalf("Append(%q, nil): %v", tenant, err)
		}
	}
	if n := len(s.tenants); n != 0 {
		t.Errorf("after reads of 100 unknown tenants the store holds %d tenants; want 0", n)
	}
	if err := s.Append(ctx, "acme", []Item{{Tenant: "acme", Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.tenants); n != 1 {
		t.Errorf("after an append the store holds %d tenants; want 1", n)
	}
}
