package digest

import (
	"cmp"
	"slices"

	"github.com/alertmail/alertmail/alerts"
)

// A line is one notification of a digest: the items of one key collapsed,
// with how many there were and the earliest and latest of them. It points
// into the pending items rather than copying their fields, so that a line
// costs 40 bytes however long the strings are.
type line struct {
	key         ItemKey
	first, last *Item // the earliest and the latest occurrence
	count       int
}

// The line shows the category and summary of its latest occurrence; asset
// and fingerprint are the same in all of them.
func (l *line) category() alerts.CategoryID { return l.last.Category }
func (l *line) asset() string               { return l.last.Asset }
func (l *line) fingerprint() string         { return l.last.Fingerprint }
func (l *line) summary() string             { return l.last.Summary }

// collapse turns items into one line per key, in the order each key first
// appears. The lines point into items.
func collapse(items []Item) []line {
	index := make(map[ItemKey]int32, len(items))
	lines := make([]line, 0, len(items))
	for i := range items {
		it := &items[i]
		k := it.Key()
		if j, ok := index[k]; ok {
			l := &lines[j]
			l.count++
			if it.Time.Before(l.first.Time) {
				l.first = it
			}
			if !it.Time.Before(l.last.Time) {
				l.last = it
			}
			continue
		}
		index[k] = int32(len(lines))
		lines = append(lines, line{key: k, first: it, last: it, count: 1})
	}
	return lines
}

// lineOrder returns the order of a digest's lines: by category (in the
// order of rank, then by id), then asset, then when first seen, then
// fingerprint.
func lineOrder(rank func(alerts.CategoryID) int) func(a, b *line) int {
	return func(a, b *line) int {
		if c := compareCategories(rank, a.category(), b.category()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.asset(), b.asset()); c != 0 {
			return c
		}
		if c := a.first.Time.Compare(b.first.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.fingerprint(), b.fingerprint())
	}
}

// compareCategories orders a digest's categories: in the order of rank,
// then by id.
func compareCategories(rank func(alerts.CategoryID) int, a, b alerts.CategoryID) int {
	if a == b {
		return 0
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// firstLines returns the first k lines in order (all when k <= 0). Only
// these are listed in the email, so for a large digest it keeps a buffer of
// candidates instead of sorting every line: a line that sorts after the
// k-th best so far is dismissed with one comparison.
func firstLines(lines []line, k int, order func(a, b *line) int) []*line {
	if k <= 0 || k >= len(lines) {
		all := make([]*line, len(lines))
		for i := range lines {
			all[i] = &lines[i]
		}
		slices.SortFunc(all, order)
		return all
	}
	buf := make([]*line, 0, 2*k)
	var worst *line // the k-th best so far, once known
	for i := range lines {
		l := &lines[i]
		if worst != nil && order(l, worst) >= 0 {
			continue
		}
		buf = append(buf, l)
		if len(buf) == cap(buf) {
			slices.SortFunc(buf, order)
			buf = buf[:k]
			worst = buf[k-1]
		}
	}
	slices.SortFunc(buf, order)
	return buf[:min(k, len(buf))]
}
