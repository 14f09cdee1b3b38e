package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		digestLargeBatches(t, newStore(t))
	})
}

// digestLargeBatches: more items appended, committed and looked up in one
// call than a Lua stack holds arguments.
func digestLargeBatches(t *testing.T, s digest.Store) {
	ctx := context.Background()
	const n = 2500
	items := make([]digest.Item, n)
	keys := make([]digest.ItemKey, n)
	for i := range items {
		items[i] = digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: fmt.Sprint("fp", i), Time: t0}
		keys[i] = items[i].Key()
	}
	require.NoError(t, s.Append(ctx, "acme", items), "Append")
	got, through, err := s.Pending(ctx, "acme")
	require.NoError(t, err, "Pending")
	require.Truef(t, len(got) == n && through == n && got[n-1].Fingerprint == items[n-1].Fingerprint,
		"Pending = %d items through %d; want %d through %d", len(got), through, n, n)
	day := digest.DayOf(t0)
	require.NoError(t, s.Commit(ctx, "acme", digest.Commit{Day: day, Token: "x", Through: n - 1, Reported: keys[:n-1], Now: t0, ExpireBefore: t0.Add(-time.Hour)}), "Commit")
	rep, err := s.Reported(ctx, "acme", keys, t0)
	require.NoError(t, err, "Reported")
	require.Lenf(t, rep, n, "Reported = %d results; want %d", len(rep), n)
	for i, r := range rep {
		require.Equalf(t, i < n-1, r, "Reported[%d] = %v; want %v", i, r, i < n-1)
	}
	got, through, err = s.Pending(ctx, "acme")
	require.NoError(t, err, "Pending after the commit")
	assert.Truef(t, len(got) == 1 && through == n, "after the commit Pending = %d items through %d; want 1 through %d", len(got), through, n)
}
