package digest

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/render"
)

// defaultTemplates holds the default digest.txt and digest.html.
//
//go:embed templates/digest.txt templates/digest.html
var defaultTemplates embed.FS

// TemplateData is what the digest templates (digest.txt and digest.html,
// see [MailerConfig].Templates) are executed with. Every string in it is ready
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
	// More is the number of lines not listed (past MailerConfig.MaxLines), and
	// ViewAll the link to the full list: MailerConfig.ViewAllURL expanded, empty
	// when everything is listed or there is no such link.
	More    int
	ViewAll string
	// ConsoleURL is the digest's page in the console (MailerConfig.ViewAllURL
	// expanded), listed or not; empty when there is no such link.
	ConsoleURL string
	// Zone names the time zone the times are shown in ("Europe/Berlin").
	Zone string
	// Preheader is the line a mail client shows after the subject in the
	// list of messages: the counts and the tenant.
	Preheader string
	// Brand is the host's branding (MailerConfig.Brand), ready to print.
	Brand alerts.BrandData
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

// A builder is the building part of a [Mailer]: it turns a digest's lines
// into its email. It is not modified after [newBuilder], so it is safe for
// concurrent use.
type builder struct {
	maxLines int
	viewAll  *render.URL // nil when there is no link
	catalog  *alerts.Catalog
	rank     map[alerts.CategoryID]int // the order of the catalog's categories
	brand    *render.Brand
	tmpl     *render.Template
}

// newBuilder returns the builder that cfg, with its defaults set,
// configures. The error, wrapping [ErrConfig], names ViewAllURL, Brand or
// Templates.
func newBuilder(cfg *MailerConfig) (*builder, error) {
	b := &builder{maxLines: cfg.MaxLines, catalog: cfg.Catalog, rank: make(map[alerts.CategoryID]int)}
	for i, c := range cfg.Catalog.Categories() {
		b.rank[c.ID] = i
	}
	if cfg.ViewAllURL != "" {
		u, err := render.ParseURL(cfg.ViewAllURL, "tenant", "day")
		if err != nil {
			return nil, fmt.Errorf("%w: MailerConfig.ViewAllURL: %w", ErrConfig, err)
		}
		b.viewAll = u
	}
	// alerts.Brand and render.BrandConfig have the same fields, so that a
	// change to one without the other does not compile.
	brand, err := render.NewBrand(render.BrandConfig(cfg.Brand))
	if err != nil {
		return nil, fmt.Errorf("%w: MailerConfig.%w", ErrConfig, err)
	}
	b.brand = brand
	templates := cfg.Templates
	if templates == nil {
		templates, _ = fs.Sub(defaultTemplates, "templates") // a valid name: no error
	}
	tmpl, err := render.ParseFS(templates, "digest", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: MailerConfig.Templates: %w", ErrConfig, err)
	}
	b.tmpl = tmpl
	return b, nil
}

// categoryName returns the display name of a category: its name in the
// catalog, else its id.
func (b *builder) categoryName(id alerts.CategoryID) string {
	if c, ok := b.catalog.Lookup(id); ok {
		return c.Name
	}
	if id == "" {
		return "Uncategorized"
	}
	return string(id)
}

// categoryRank orders the categories of the catalog as it does, before any
// other.
func (b *builder) categoryRank(id alerts.CategoryID) int {
	if r, ok := b.rank[id]; ok {
		return r
	}
	return len(b.rank)
}

// message renders the digest email of lines, tenant id's digest of day.
func (b *builder) message(id string, sub Subscription, day Day, now time.Time, lines []line) (*alerts.Message, error) {
	loc := sub.Schedule.location()
	link := b.viewAll.Expand(func(name string) string {
		if name == "tenant" {
			return id
		}
		return day.String()
	})
	text, html, err := b.tmpl.Execute(b.view(id, day, loc, lines, link))
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	events := make([]alerts.Event, len(lines))
	for i := range lines {
		l := &lines[i]
		events[i] = alerts.Event{
			Tenant: id, Category: l.category(), Asset: l.asset(), Fingerprint: l.fingerprint(),
			Summary: l.summary(), Time: l.last.Time,
		}
	}
	return &alerts.Message{
		ID:       messageID(id, day, lines),
		Tenant:   id,
		From:     sub.From,
		ReplyTo:  sub.ReplyTo,
		To:       slices.Clone(sub.To),
		Subject:  subject(day, len(lines)),
		Text:     text,
		HTML:     html,
		Events:   events,
		Time:     now,
		Location: loc,
	}, nil
}

// view prepares the template data of a digest: counts over every line, and
// the first maxLines lines in order (all when maxLines <= 0) listed by
// category and asset, with link when some are not listed.
func (b *builder) view(tenant string, day Day, loc *time.Location, lines []line, link string) *TemplateData {
	c := countLines(lines)
	v := &TemplateData{Tenant: render.Line(tenant), Lines: len(lines), Occurrences: c.occurrences, Assets: len(c.assets),
		ConsoleURL: link, Zone: render.Line(loc.String()), Brand: alerts.BrandData(b.brand.View(tenant))}
	v.Preheader = fmt.Sprintf("%d new %s (%d %s) on %d %s for %s.",
		v.Lines, render.Plural(v.Lines, "notification", "notifications"),
		v.Occurrences, render.Plural(v.Occurrences, "occurrence", "occurrences"),
		v.Assets, render.Plural(v.Assets, "asset", "assets"), v.Tenant)
	y, m, d := day.Date()
	v.Date = render.CalendarDate(y, m, d, loc) // the digest's date, even one the zone skipped
	byCategory := func(x, y alerts.CategoryID) int { return compareCategories(b.categoryRank, x, y) }
	for _, id := range slices.SortedFunc(maps.Keys(c.categories), byCategory) {
		v.Summary = append(v.Summary, b.category(id, c))
	}
	shown := firstLines(lines, b.maxLines, lineOrder(b.categoryRank))
	if v.More = len(lines) - len(shown); v.More > 0 {
		v.ViewAll = link
	}
	v.Categories = b.listing(shown, c, loc)
	return v
}

// listing returns the categories of shown, lines in order, with their
// assets and lines.
func (b *builder) listing(shown []*line, c *lineCounts, loc *time.Location) []TemplateCategory {
	var cats []TemplateCategory
	for i, l := range shown {
		newCat := i == 0 || shown[i-1].category() != l.category()
		if newCat {
			cats = append(cats, b.category(l.category(), c))
		}
		cat := &cats[len(cats)-1]
		if newCat || shown[i-1].asset() != l.asset() {
			a := assetKey{l.category(), l.asset()}
			cat.Assets = append(cat.Assets, TemplateAsset{Name: assetName(l.asset()), Lines: c.assets[a]})
		}
		a := &cat.Assets[len(cat.Assets)-1]
		a.Items = append(a.Items, TemplateLine{
			Summary:     render.Line(l.summary()),
			Fingerprint: render.Line(l.fingerprint()),
			Count:       l.count,
			First:       render.DateTime(l.first.Time, loc),
			Last:        render.DateTime(l.last.Time, loc),
		})
	}
	return cats
}

// category returns category id with its counts and no assets.
func (b *builder) category(id alerts.CategoryID, c *lineCounts) TemplateCategory {
	n := c.categories[id]
	return TemplateCategory{Name: render.Line(b.categoryName(id)), Lines: n.lines, AssetCount: n.assets}
}

// lineCounts counts the lines of a digest, listed or not.
type lineCounts struct {
	occurrences int // the items collapsed into the lines
	categories  map[alerts.CategoryID]*categoryCount
	assets      map[assetKey]int // the lines of each asset in each category
}

type categoryCount struct{ lines, assets int }

type assetKey struct {
	cat   alerts.CategoryID
	asset string
}

// countLines counts lines in one pass.
func countLines(lines []line) *lineCounts {
	c := &lineCounts{categories: make(map[alerts.CategoryID]*categoryCount), assets: make(map[assetKey]int)}
	for i := range lines {
		l := &lines[i]
		c.occurrences += l.count
		cat := c.categories[l.category()]
		if cat == nil {
			cat = new(categoryCount)
			c.categories[l.category()] = cat
		}
		cat.lines++
		a := assetKey{l.category(), l.asset()}
		if c.assets[a] == 0 {
			cat.assets++
		}
		c.assets[a]++
	}
	return c
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
