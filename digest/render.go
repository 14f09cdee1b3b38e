package digest

import (
	"cmp"
	"embed"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/render"
)

// templates holds the default digest.txt and digest.html.
//
//go:embed templates/digest.txt templates/digest.html
var templates embed.FS

// The data the digest templates are executed with. Every string is
// prepared with the render helpers: untrusted text flattened to one line,
// times in the tenant's zone with the zone shown.
type view struct {
	Tenant      string
	Date        string         // the digest's date and zone, "2026-03-09 (UTC-04:00)"
	Lines       int            // notifications (lines), all of them, listed or not
	Occurrences int            // items collapsed into them
	Assets      int            // distinct (category, asset) pairs
	Summary     []categoryView // every category, with counts
	Categories  []categoryView // the categories of the listed lines
	More        int            // lines not listed
	ViewAll     string         // link to the full list; empty when all are listed
}

type categoryView struct {
	Name       string
	Lines      int // all lines of the category, listed or not
	AssetCount int // all assets of the category
	Assets     []assetView
}

type assetView struct {
	Name  string
	Lines int // all lines of the asset in the category, listed or not
	Items []lineView
}

type lineView struct {
	Summary     string
	Fingerprint string
	Count       int
	First, Last string
}

// buildView prepares the template data of a digest: counts over every
// line, and the first max lines in order (all when max <= 0) listed by
// category and asset.
func buildView(tenant string, day Day, loc *time.Location, lines []line, max int,
	rank func(alerts.CategoryID) int, name func(alerts.CategoryID) string, viewAll string) *view {
	v := &view{Tenant: render.Line(tenant), Lines: len(lines)}
	y, m, d := day.Date()
	v.Date = render.Date(time.Date(y, m, d, 12, 0, 0, 0, loc), loc)

	// Count every line, listed or not, in one pass.
	type assetKey struct {
		cat   alerts.CategoryID
		asset string
	}
	type catCount struct{ lines, assets int }
	cats := make(map[alerts.CategoryID]*catCount)
	assets := make(map[assetKey]int)
	for i := range lines {
		l := &lines[i]
		v.Occurrences += l.count
		c := cats[l.category()]
		if c == nil {
			c = new(catCount)
			cats[l.category()] = c
		}
		c.lines++
		ak := assetKey{l.category(), l.asset()}
		if assets[ak] == 0 {
			c.assets++
			v.Assets++
		}
		assets[ak]++
	}
	ids := slices.SortedFunc(maps.Keys(cats), func(a, b alerts.CategoryID) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, id := range ids {
		v.Summary = append(v.Summary, categoryView{Name: render.Line(name(id)), Lines: cats[id].lines, AssetCount: cats[id].assets})
	}

	shown := firstLines(lines, max, lineOrder(rank))
	if v.More = len(lines) - len(shown); v.More > 0 {
		v.ViewAll = viewAll
	}
	for i, l := range shown {
		newCat := i == 0 || shown[i-1].category() != l.category()
		if newCat {
			c := cats[l.category()]
			v.Categories = append(v.Categories, categoryView{Name: render.Line(name(l.category())), Lines: c.lines, AssetCount: c.assets})
		}
		c := &v.Categories[len(v.Categories)-1]
		if newCat || shown[i-1].asset() != l.asset() {
			c.Assets = append(c.Assets, assetView{Name: assetName(l.asset()), Lines: assets[assetKey{l.category(), l.asset()}]})
		}
		a := &c.Assets[len(c.Assets)-1]
		a.Items = append(a.Items, lineView{
			Summary:     render.Line(l.summary()),
			Fingerprint: render.Line(l.fingerprint()),
			Count:       l.count,
			First:       render.DateTime(l.first.Time, loc),
			Last:        render.DateTime(l.last.Time, loc),
		})
	}
	return v
}

func assetName(a string) string {
	if a = render.Line(a); a == "" {
		return "(no asset)"
	}
	return a
}

// subject returns the digest's subject line.
func subject(day Day, lines int) string {
	return fmt.Sprintf("Daily digest %s: %d new %s", day, lines, render.Plural(lines, "notification", "notifications"))
}
