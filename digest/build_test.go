package digest

import (
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

func TestCollapse(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	items := []Item{
		{Asset: "h1", Fingerprint: "a", Category: alerts.Threat, Summary: "a1", Time: t0.Add(2 * time.Hour)},
		{Asset: "h1", Fingerprint: "b", Category: alerts.Threat, Summary: "b1", Time: t0},
		{Asset: "h1", Fingerprint: "a", Category: alerts.ActiveThreat, Summary: "a0", Time: t0}, // earlier: first seen
		{Asset: "h2", Fingerprint: "a", Category: alerts.Threat, Summary: "other asset", Time: t0},
		{Asset: "h1", Fingerprint: "a", Category: "", Summary: "a3", Time: t0.Add(3 * time.Hour)}, // latest, no category
	}
	lines := collapse(items)
	if len(lines) != 3 {
		t.Fatalf("collapse(%d items) = %d lines; want 3", len(items), len(lines))
	}
	a := lines[0]
	if a.count != 3 || !a.first.Equal(t0) || !a.last.Equal(t0.Add(3*time.Hour)) || a.summary != "a3" || a.category != alerts.Threat {
		t.Errorf("collapse line for (h1, a) = %+v; want count 3, first %v, last %v, summary a3, category threat",
			a, t0, t0.Add(3*time.Hour))
	}
	if lines[0].key != KeyOf("h1", "a") || lines[1].key != KeyOf("h1", "b") || lines[2].key != KeyOf("h2", "a") {
		t.Errorf("collapse lines are not in order of first appearance")
	}
}

func TestSortLines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	rank := func(id alerts.CategoryID) int {
		if id == alerts.Threat {
			return 0
		}
		return 1
	}
	lines := []line{
		{category: "zeta", asset: "a", fingerprint: "1", first: t0},
		{category: alerts.Configuration, asset: "b", fingerprint: "2", first: t0},
		{category: alerts.Threat, asset: "b", fingerprint: "3", first: t0},
		{category: alerts.Threat, asset: "a", fingerprint: "5", first: t0.Add(time.Hour)},
		{category: alerts.Threat, asset: "a", fingerprint: "4", first: t0.Add(time.Hour)},
		{category: alerts.Threat, asset: "a", fingerprint: "6", first: t0},
	}
	var got string
	for _, l := range sortLines(lines, rank) {
		got += l.fingerprint
	}
	// threat first (rank 0); then configuration before zeta (same rank, by
	// id); within a category by asset, first seen, fingerprint.
	if want := "645321"; got != want {
		t.Errorf("sortLines order = %s; want %s", got, want)
	}
}
