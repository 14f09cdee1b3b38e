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

// TemplateData is what the digest templates (digest.txt and digest.html,
// see [Config].Templates) are executed with. Every string in it is ready
// to print: untrusted text flattened to one line (no CR, LF, NUL or other
// control character), times in the tenant's zone with
// the zone shown, the link escaped. Counts cover every line of the digest,
// listed or not. The templates must not modify it.
type TemplateData struct {
	// Tenant is the tenant id.
	Tenant string
	// Date is the digest's date and zone, "2026-03-09 (UTC-04:00)".
	Date string
	// Lines is the number of notifications (lines), Occurrences the
	// number of items collapsed into them, and Assets the number of
	// distinct (category, asset) pairs.
	Lines, Occurrences, Assets int
	// Summary holds every category of the digest, in order, with counts
	// (and no Assets).
	Summary []TemplateCategory
	// Categories holds the categories of the listed lines, in order, with
	// their assets and lines.
	Categories []TemplateCategory
	// More is the number of lines not listed (past Config.MaxLines), and
	// ViewAll the link to the full list: Config.ViewAllURL expanded, empty
	// when everything is listed or there is no such link.
	More    int
	ViewAll string
}

// A TemplateCategory is one category of a digest, in [TemplateData].
type TemplateCategory struct {
	// Name is the category's display name, from the catalog.
	Name string
	// Lines counts all the lines of the category, listed or not, and
	// AssetCount all its assets.
	Lines, AssetCount int
	// Assets holds the assets of the category's listed lines, in order.
	Assets []TemplateAsset
}

// A TemplateAsset is one asset within a category, in [TemplateData].
type TemplateAsset struct {
	// Name is the asset, or "(no asset)".
	Name string
	// Lines counts all the lines of the asset in the category, listed or
	// not.
	Lines int
	// Items holds the asset's listed lines, in order.
	Items []TemplateLine
}

// A TemplateLine is one notification of a digest: its items collapsed.
type TemplateLine struct {
	// Summary is the summary of the latest item; Fingerprint the
	// notification's fingerprint.
	Summary, Fingerprint string
	// Count is the number of items collapsed into the line.
	Count int
	// First and Last are when the earliest and the latest item were seen.
	First, Last string
}

// buildView prepares the template data of a digest: counts over every
// line, and the first max lines in order (all when max <= 0) listed by
// category and asset.
func buildView(tenant string, day Day, loc *time.Location, lines []line, max int,
	rank func(alerts.CategoryID) int, name func(alerts.CategoryID) string, viewAll string) *TemplateData {
	v := &TemplateData{Tenant: render.Line(tenant), Lines: len(lines)}
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
		v.Summary = append(v.Summary, TemplateCategory{Name: render.Line(name(id)), Lines: cats[id].lines, AssetCount: cats[id].assets})
	}

	shown := firstLines(lines, max, lineOrder(rank))
	if v.More = len(lines) - len(shown); v.More > 0 {
		v.ViewAll = viewAll
	}
	for i, l := range shown {
		newCat := i == 0 || shown[i-1].category() != l.category()
		if newCat {
			c := cats[l.category()]
			v.Categories = append(v.Categories, TemplateCategory{Name: render.Line(name(l.category())), Lines: c.lines, AssetCount: c.assets})
		}
		c := &v.Categories[len(v.Categories)-1]
		if newCat || shown[i-1].asset() != l.asset() {
			c.Assets = append(c.Assets, TemplateAsset{Name: assetName(l.asset()), Lines: assets[assetKey{l.category(), l.asset()}]})
		}
		a := &c.Assets[len(c.Assets)-1]
		a.Items = append(a.Items, TemplateLine{
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
