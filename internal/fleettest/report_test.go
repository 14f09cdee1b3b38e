package fleettest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// TestReport checks the counts of a Report against records written by
// hand: what the failover test asserts on must be what happened.
func TestReport(t *testing.T) {
	t.Parallel()
	sec := int64(time.Second)
	recs := []record{
		{Kind: "start", Nanos: 10 * sec},
		{Kind: "ack", ID: "a", Outcome: "sent", Nanos: 1000},
		{Kind: "ack", ID: "b", Outcome: "suppressed", Nanos: 3000},
		{Kind: "ack", ID: "c", Outcome: "sent", Nanos: 2000},
		{Kind: "err", ID: "d", Err: "limiter take: EOF", Ambiguous: true},
		{Kind: "ack", ID: "d", Outcome: "sent", Nanos: 4000},
		{Kind: "ack", ID: "e", Outcome: "sent", Nanos: 5000},
		{Kind: "ack", ID: "f", Outcome: "suppressed", Nanos: 6000},
		{Kind: "err", ID: "g", Err: "settings load: EOF"},
		{Kind: "gave-up", ID: "g"},
		// t1: a, b, then b again under another ID; c twice under one ID;
		// d under two IDs (offered again); e under two IDs (not); f pending;
		// a again, with h (below).
		{Kind: "mail", ID: "m1", Tenant: "t1", Nanos: 10 * sec, Events: []string{"a"}},
		{Kind: "mail", ID: "m2", Tenant: "t1", Nanos: 11 * sec, Events: []string{"b", "b"}},
		{Kind: "mail", ID: "m3", Tenant: "t1", Nanos: 12 * sec, Events: []string{"b"}},
		{Kind: "mail", ID: "m4", Tenant: "t2", Nanos: 10 * sec, Events: []string{"c"}},
		{Kind: "mail", ID: "m4", Tenant: "t2", Nanos: 13 * sec, Events: []string{"c"}},
		{Kind: "mail", ID: "m5", Tenant: "t2", Nanos: 14 * sec, Events: []string{"d"}},
		{Kind: "mail", ID: "m6", Tenant: "t2", Nanos: 14 * sec, Events: []string{"d", "e"}},
		{Kind: "mail", ID: "m7", Tenant: "t2", Nanos: 15 * sec, Events: []string{"e"}},
		// h's first email was maybe not recorded: it may go again.
		{Kind: "ack", ID: "h", Outcome: "sent", Nanos: 7000},
		{Kind: "err", Err: "limiter commit: EOF", Mail: "m8"},
		{Kind: "mail", ID: "m8", Tenant: "t3", Nanos: 10 * sec, Events: []string{"h"}},
		{Kind: "mail", ID: "m9", Tenant: "t3", Nanos: 11 * sec, Events: []string{"h", "a"}},
		{Kind: "end", Nanos: 12 * sec},
	}
	path := filepath.Join(t.TempDir(), "w.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	enc := json.NewEncoder(f)
	for _, r := range recs {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, f.Close())

	cfg := Config{Notifier: Record, Limit: alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 5, Period: 3 * time.Second}}
	r, err := readReport(cfg, []string{path})
	require.NoError(t, err, "readReport")
	r.settle([]string{"f"})
	got := map[string]any{
		"Events": r.Events, "Unacked": r.Unacked, "Errors": r.Errors, "Reoffered": r.Reoffered, "Unrecorded": r.Unrecorded,
		"Emails": r.Emails, "Pending": r.Pending, "Lost": r.Lost,
		"Duplicates": r.Duplicates, "DuplicatesNewID": r.DuplicatesNewID, "DuplicatesUnexplained": r.DuplicatesUnexplained,
		// t2 within 3 s: 13, 14, 14, 15.
		"MaxInPeriod": r.MaxInPeriod, "Elapsed": r.Elapsed, "P50": r.P50, "P99": r.P99,
	}
	want := map[string]any{
		"Events": 7, "Unacked": 1, "Errors": 3, "Reoffered": 2, "Unrecorded": 1,
		"Emails": 10, "Pending": 1, "Lost": 0,
		// b, c, d, e, h and a; under two IDs: b, d, e, h and a; not
		// explained: b, e and a.
		"Duplicates": 6, "DuplicatesNewID": 5, "DuplicatesUnexplained": 3,
		"MaxInPeriod": 4, "Elapsed": 2 * time.Second, "P50": 4000 * time.Nanosecond, "P99": 7000 * time.Nanosecond,
	}
	assert.Equal(t, want, got, "the Report's counts")
	assert.Equalf(t, 5, r.Outcomes[alerts.Sent], "Outcomes[sent] = %d; want 5", r.Outcomes[alerts.Sent])

	r.settle(nil) // f no longer pending: lost
	assert.Equalf(t, 1, r.Lost, "Lost with f neither emailed nor pending = %d; want 1", r.Lost)
}
