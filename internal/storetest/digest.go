package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/digesttest"
)

// DigestStore runs the conformance suite of [digest.Store]: the contract
// tests of digesttest.TestStore, then large batches (more items and keys in
// one call than a Lua stack holds arguments).
func DigestStore(t *testing.T, newStore func(t *testing.T) digest.Store) {
	t.Run("Contract", func(t *testing.T) { digesttest.TestStore(t, newStore) })
	t.Run("LargeBatches", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		const n = 2500
		items := make([]digest.Item, n)
		keys := make([]digest.ItemKey, n)
		for i := range items {
			items[i] = digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: fmt.Sprint("fp", i), Time: t0}
			keys[i] = items[i].Key()
		}
		if err := s.Append(ctx, "acme", items); err != nil {
			t.Fatal(err)
		}
		got, through, err := s.Pending(ctx, "acme")
		if err != nil || len(got) != n || through != n || got[n-1].Fingerprint != items[n-1].Fingerprint {
			t.Fatalf("Pending = %d items through %d, %v; want %d through %d", len(got), through, err, n, n)
		}
		day := digest.DayOf(t0)
		if err := s.Commit(ctx, "acme", digest.Commit{Day: day, Token: "x", Through: n - 1, Reported: keys[:n-1], Now: t0, ExpireBefore: t0.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Reported(ctx, "acme", keys, t0)
		if err != nil || len(rep) != n {
			t.Fatalf("Reported = %d results, %v; want %d", len(rep), err, n)
		}
		for i, r := range rep {
			if r != (i < n-1) {
				t.Fatalf("Reported[%d] = %v; want %v", i, r, i < n-1)
			}
		}
		got, through, err = s.Pending(ctx, "acme")
		if err != nil || len(got) != 1 || through != n {
			t.Fatalf("after the commit Pending = %d items through %d, %v; want 1 through %d", len(got), through, err, n)
		}
	})
}
