package alerts

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryLimitStoreForgetsIDs checks that a key holding nothing but the
// IDs of events that left it stays for the dedup window, and no longer:
// used again after the window, or swept by Due if it is not.
func TestMemoryLimitStoreForgetsIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MemoryLimitStore{DedupWindow: time.Hour}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := FrequencyLimit{Max: 100, Period: time.Minute}
	keys := make([]LimitKey, 2*memShards)
	for i := range keys {
		keys[i] = LimitKey{Tenant: "t" + strconv.Itoa(i), Category: Threat}
		g, err := s.Take(ctx, keys[i], p, t0, time.Minute, []Event{{ID: "a"}, {ID: "b"}})
		require.NoError(t, err, "Take")
		require.NoError(t, s.Commit(ctx, keys[i], p, g.Lease, t0), "Commit")
	}
	later := t0.Add(time.Hour)
	g, err := s.Take(ctx, keys[0], p, later.Add(-time.Nanosecond), time.Minute, []Event{{ID: "a"}})
	require.NoError(t, err, "Take")
	assert.Equal(t, 1, g.Duplicates, "duplicates a nanosecond before the window ends")
	require.Equal(t, len(keys), s.keys(), "keys holding IDs within the window")
	g, err = s.Take(ctx, keys[0], p, later, time.Minute, []Event{{ID: "a"}, {ID: "b"}, {ID: "a"}})
	require.NoError(t, err, "Take")
	assert.Equal(t, 1, g.Duplicates, "duplicates after the window (a twice in one call)")
	assert.Len(t, g.Events, 2, "events leased after the window")
	require.NoError(t, s.Commit(ctx, keys[0], p, g.Lease, later), "Commit")
	// Due sweeps one shard a call: a round of calls sweeps them all.
	for range memShards {
		_, _, err := s.Due(ctx, later, 10, time.Minute)
		require.NoError(t, err, "Due")
	}
	assert.Equal(t, 1, s.keys(), "keys left after the sweep: the one whose IDs left at the end of the window")
}

// TestSeenIDsQueue checks the bookkeeping of remembered IDs: IDs go when
// their window ends, one by one or, when most go at once, by clearing the
// set and putting back the IDs that stay, held ones included; the queue is
// compacted as it is consumed.
func TestSeenIDsQueue(t *testing.T) {
	t.Parallel()
	k := &memKey{slot: -1}
	s := &k.ids
	evs := make([]Event, 1000)
	for i := range evs {
		evs[i].ID = strconv.Itoa(i)
	}
	kept, dups := s.admit(evs)
	require.Zero(t, dups, "duplicates among new IDs")
	require.Len(t, kept, len(evs), "events admitted")
	for i := range evs[:990] {
		s.forget(evs[i:i+1], int64(i), 10)
	}
	k.pending = evs[990:] // held: never forgotten
	k.expireIDs(100)      // the windows of 0..90 are over: one by one
	assert.Len(t, s.set, 909, "IDs remembered after a few expired")
	k.expireIDs(600) // 91..590 are over: most of the set, which is cleared
	assert.Len(t, s.set, 409, "IDs remembered after most expired")
	assert.Len(t, s.queue, 399, "queue compacted")
	kept, dups = s.admit([]Event{{ID: "0"}, {ID: "595"}, {ID: "995"}, {ID: ""}, {ID: ""}})
	assert.Equal(t, 2, dups, "duplicates: one within its window, one held")
	assert.Equal(t, []Event{{ID: "0"}, {}, {}}, kept, "events admitted")
	k.pending = append(k.pending, kept...) // as Take does
	k.expireIDs(2000)
	assert.Len(t, s.set, 11, "IDs remembered after every window ended: the held ones and the one admitted since")
	assert.Empty(t, s.queue, "queue")
}
