package digest

import (
	"embed"
	"fmt"
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

// buildView prepares the template data of a digest of sorted lines, listing
// the first max of them (all when max <= 0).
func buildView(tenant string, day Day, loc *time.Location, lines []*line, max int,
	name func(alerts.CategoryID) string, viewAll string) *view {
	v := &view{Tenant: render.Line(tenant), Lines: len(lines)}
	y, m, d := day.Date()
	v.Date = render.Date(time.Date(y, m, d, 12, 0, 0, 0, loc), loc)
	shown, more := render.Cut(lines, max)
	v.More = more
	if more > 0 {
		v.ViewAll = viewAll
	}
	var cats []categoryView
	for i := range lines {
		l := lines[i]
		newCat := i == 0 || lines[i-1].category != l.category
		if newCat {
			cats = append(cats, categoryView{Name: render.Line(name(l.category))})
		}
		c := &cats[len(cats)-1]
		c.Lines++
		v.Occurrences += l.count
		if newCat || lines[i-1].asset != l.asset {
			c.AssetCount++
			v.Assets++
			c.Assets = append(c.Assets, assetView{Name: assetName(l.asset)})
		}
		a := &c.Assets[len(c.Assets)-1]
		a.Lines++
		if i < len(shown) {
			a.Items = append(a.Items, lineView{
				Summary:     render.Line(l.summary),
				Fingerprint: render.Line(l.fingerprint),
				Count:       l.count,
				First:       render.DateTime(l.first, loc),
				Last:        render.DateTime(l.last, loc),
			})
		}
	}
	for _, c := range cats {
		v.Summary = append(v.Summary, categoryView{Name: c.Name, Lines: c.Lines, AssetCount: c.AssetCount})
		// Keep the assets with listed lines: they come first, sorted.
		n := 0
		for n < len(c.Assets) && len(c.Assets[n].Items) > 0 {
			n++
		}
		if n > 0 {
			c.Assets = c.Assets[:n]
			v.Categories = append(v.Categories, c)
		}
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
