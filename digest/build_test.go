package digest

import (
	"fmt"
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
	if a.count != 3 || !a.first.Time.Equal(t0) || a.first.Summary != "a0" || !a.last.Time.Equal(t0.Add(3*time.Hour)) || a.summary() != "a3" || a.category() != "" {
		t.Errorf("collapse line for (h1, a) = count %d, first %+v, last %+v; want count 3, first a0 at %v, last a3 at %v",
			a.count, *a.first, *a.last, t0, t0.Add(3*time.Hour))
	}
	if lines[0].key != ItemKeyOf("h1", "a") || lines[1].key != ItemKeyOf("h1", "b") || lines[2].key != ItemKeyOf("h2", "a") {
		t.Errorf("collapse lines are not in order of first appearance")
	}
}

func TestFirstLines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	rank := func(id alerts.CategoryID) int {
		if id == alerts.Threat {
			return 0
		}
		return 1
	}
	items := []Item{
		{Category: "zeta", Asset: "a", Fingerprint: "1", Time: t0},
		{Category: alerts.Configuration, Asset: "b", Fingerprint: "2", Time: t0},
		{Category: alerts.Threat, Asset: "b", Fingerprint: "3", Time: t0},
		{Category: alerts.Threat, Asset: "a", Fingerprint: "5", Time: t0.Add(time.Hour)},
		{Category: alerts.Threat, Asset: "a", Fingerprint: "4", Time: t0.Add(time.Hour)},
		{Category: alerts.Threat, Asset: "a", Fingerprint: "6", Time: t0},
	}
	// threat first (rank 0); then configuration before zeta (same rank, by
	// id); within a category by asset, first seen, fingerprint.
	const order = "645321"
	lines := collapse(items)
	for k := -1; k <= len(items)+1; k++ {
		var got string
		for _, l := range firstLines(lines, k, lineOrder(rank)) {
			got += l.fingerprint()
		}
		want := order
		if k > 0 && k < len(order) {
			want = order[:k]
		}
		if got != want {
			t.Errorf("firstLines(%d) order = %s; want %s", k, got, want)
		}
	}
}

// TestFirstLinesMany compares the candidate buffer with a full sort on
// enough lines to refill it many times.
func TestFirstLinesMany(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	cats := []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.Configuration, "custom"}
	var items []Item
	for i := range 5000 {
		n := (i * 7919) % 5000 // a fixed shuffle
		items = append(items, Item{Category: cats[n%4], Asset: fmt.Sprint("h", n%37), Fingerprint: fmt.Sprint(n),
			Time: t0.Add(time.Duration(n%11) * time.Minute)})
	}
	lines := collapse(items)
	order := lineOrder(func(id alerts.CategoryID) int { return len(id) })
	all := firstLines(lines, 0, order)
	for _, k := range []int{1, 2, 10, 100, 999, 4999} {
		got := firstLines(lines, k, order)
		if len(got) != k {
			t.Fatalf("firstLines(%d) returned %d lines", k, len(got))
		}
		for i := range got {
			if got[i] != all[i] {
				t.Fatalf("firstLines(%d)[%d] = %s; the full sort has %s", k, i, got[i].fingerprint(), all[i].fingerprint())
			}
		}
	}
}
