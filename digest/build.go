package digest

import (
	"cmp"
	"slices"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A line is one notification of a digest: the items of one key collapsed,
// with how many there were and when the first and last were seen.
type line struct {
	key         Key
	category    alerts.CategoryID
	asset       string
	fingerprint string
	summary     string // of the latest item
	count       int
	first, last time.Time
}

// collapse turns items into one line per key, in the order each key first
// appears.
func collapse(items []Item) []line {
	index := make(map[Key]int32, len(items))
	lines := make([]line, 0, len(items)/2+1)
	for i := range items {
		it := &items[i]
		k := it.Key()
		if j, ok := index[k]; ok {
			l := &lines[j]
			l.count++
			if it.Time.Before(l.first) {
				l.first = it.Time
			}
			if !it.Time.Before(l.last) {
				l.last = it.Time
				l.summary = it.Summary
				if it.Category != "" {
					l.category = it.Category
				}
			}
			continue
		}
		index[k] = int32(len(lines))
		lines = append(lines, line{
			key: k, category: it.Category, asset: it.Asset, fingerprint: it.Fingerprint,
			summary: it.Summary, count: 1, first: it.Time, last: it.Time,
		})
	}
	return lines
}

// sortLines returns the lines ordered by category (in the order of rank),
// then asset, then when first seen, then fingerprint. It sorts pointers,
// which is several times faster than moving the lines for a large digest.
func sortLines(lines []line, rank func(alerts.CategoryID) int) []*line {
	sorted := make([]*line, len(lines))
	for i := range lines {
		sorted[i] = &lines[i]
	}
	slices.SortFunc(sorted, func(a, b *line) int {
		if a.category != b.category {
			if c := cmp.Compare(rank(a.category), rank(b.category)); c != 0 {
				return c
			}
			return cmp.Compare(a.category, b.category)
		}
		if c := cmp.Compare(a.asset, b.asset); c != 0 {
			return c
		}
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.fingerprint, b.fingerprint)
	})
	return sorted
}
