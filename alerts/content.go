package alerts

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/alertmail/alertmail/internal/render"
)

// DefaultMaxEvents is how many events an alert email lists when
// [ContentConfig.MaxEvents] is zero; the rest are counted and linked to the
// hunting page ("View more events").
const DefaultMaxEvents = 10

// maxSubjectRunes bounds a rendered subject; subjects say the category and
// the count, so anything longer is a template gone wrong.
const maxSubjectRunes = 150

// ErrContent is wrapped by every error about the content configuration or
// about rendering a message.
var ErrContent = errors.New("alerts: content")

//go:embed templates
var builtinTemplates embed.FS

// ContentConfig configures [NewContent]. Its zero value renders the built-in
// templates, without links, in UTC, listing up to [DefaultMaxEvents] events,
// with the plain [Brand] and the [DefaultBands].
type ContentConfig struct {
	// EventURL is the link template of one event's page, for example
	// "https://console.example.com/t/{tenant}/events/{id}". Placeholders:
	// {tenant}, {category} and {id} (the event's ID); values are path- or
	// query-escaped where they stand, so event data never changes the
	// link's host or structure.
	// It must be an absolute http or https URL. Default: no event links.
	EventURL string
	// HuntingURL is the link template of the hunting page that the "View
	// more events" link opens when a list is cut, with the placeholders
	// {tenant} and {category}. Default: the count of events left out is
	// shown without a link.
	HuntingURL string
	// MaxEvents is how many events an email lists before it is cut. Zero
	// means DefaultMaxEvents; a negative value is an error.
	MaxEvents int
	// Location is the time zone times are shown in when the message has no
	// Location of its own. The recipients' zone of each tenant is set on
	// the message ([Message.Location]; the Dispatcher sets it from
	// [DispatcherConfig.Location]). Default: UTC.
	Location *time.Location
	// Catalog gives the display names of the categories. Default: the
	// built-in categories (DefaultCatalog); a category that is not in the
	// catalog is shown under its id.
	Catalog *Catalog
	// Brand shows whose product sends the emails: its name and logo, an
	// accent colour, an address and a settings link (see [Brand] for each
	// field's default). Default: the plain brand.
	Brand Brand
	// Bands are the severity bands of the scores, in increasing order of
	// Min: each score is shown as a badge of its band's colour and name.
	// Nil means DefaultBands(); an empty non-nil slice shows every score
	// in a neutral badge without a name.
	Bands []Band
	// Templates overrides the built-in templates. Each file is optional and
	// replaces the built-in file of the same name:
	//
	//   - "<category id>.txt" and "<category id>.html": the plain-text and
	//     HTML bodies of one category (a registered category may have its own);
	//   - "default.txt" and "default.html": the bodies of any category without
	//     templates of its own;
	//   - "layout.txt" and "layout.html": the blocks the bodies use
	//     ("intro", "events", "footer"; in HTML also "head", "heading"
	//     and "advice", which take a string, and "badge" and "button",
	//     which take a [Severity] and a button);
	//   - "subject.txt": the subject line.
	//
	// The .txt and .html files of a name come as a pair: one without the
	// other is an error, as is any other file name. Templates are
	// executed with a *[ContentData] and the functions "plural" (plural n
	// "event" "events"), "wrap" (wrap 72 "- " "  " s: s wrapped at 72
	// columns, the first line after "- ", the others after "  "), "button"
	// (button accent url label, for the "button" block), "line",
	// "datetime" and "date". HTML files go through html/template, so
	// every value they print is escaped as the built-in ones are; the
	// subject is flattened to one line. Default: none.
	Templates fs.FS
}

// Content renders alert emails: it fills a [Message]'s Subject, Text and
// HTML from its category, tenant and events, with the host's [Brand] and
// each score's severity [Band]. It is the default renderer of the
// [Dispatcher].
//
// The built-in templates are printed by Go code that writes the same
// bytes as executing them, escaping every value as html/template does,
// in a fraction of the time; whatever the host overrides goes through
// html/template.
//
// The zero value renders with the zero [ContentConfig]. A Content is safe
// for concurrent use.
type Content struct {
	once sync.Once
	cfg  ContentConfig
	err  error

	eventURL, huntingURL *render.URL
	brand                *render.Brand
	bands                bands
	bodies               map[CategoryID]body
	fallback             body
	subject              *texttemplate.Template // nil when builtinSubject prints it
}

// A body renders the two parts of a category's email: with templates, or
// with the built-in layout written in Go (content_layout.go) when the
// templates it would execute are all built in.
type body struct {
	tmpl    *render.Template
	builtin *builtinBody // set when tmpl is nil
}

// ContentData is what the email templates are executed with. Every string
// in it is ready to print: one line, with every run of white space and
// control characters (CR, LF, NUL...) turned into one space, and the links
// are escaped. The templates must not modify it.
type ContentData struct {
	// Category is the message's category; CategoryName its display name
	// ("Active Threat Alerts").
	Category     CategoryID
	CategoryName string
	// Subject is the rendered subject line (empty while the subject itself
	// is rendered).
	Subject string
	// Tenant is the tenant the message is for.
	Tenant string
	// Count is how many events the message covers, Carried how many of them
	// were held back by the frequency limit, and Noun the words for them
	// that agree with Count ("high-risk threat events").
	Count, Carried int
	Noun           string
	// Events are the events listed, at most MaxEvents of them; More is how
	// many were left out and MoreURL the hunting-page link, if configured.
	Events  []ContentEvent
	More    int
	MoreURL string
	// Scored reports whether any listed event has a score.
	Scored bool
	// Zone names the time zone the times are shown in ("Europe/Paris").
	Zone string
	// Highest is the highest score of the message's events, listed or
	// not, with its band; its Score is empty when no event has a score.
	Highest Severity
	// Preheader is the line a mail client shows after the subject in the
	// list of messages: the count, the tenant and the highest score.
	Preheader string
	// Brand is the host's branding, ready to print.
	Brand BrandData
}

// ContentEvent is one listed event in a [ContentData], every field ready
// to print.
type ContentEvent struct {
	// ID, Asset and Summary are the event's, flattened to one line.
	ID, Asset, Summary string
	// Time is the detection time in the recipient's zone, with the ISO date
	// and the zone: "2026-03-29 03:15:00 CEST (UTC+02:00)".
	Time string
	// Severity is the severity score ("7.5"; .Score in a template), its
	// band and badge colour; all empty when the event has no score.
	Severity
	// URL is the link to the event's page; empty when none is configured
	// or the event has no ID.
	URL string
}

// nouns are the words for a category's events, singular and plural.
var nouns = map[CategoryID][2]string{
	ActiveThreat:  {"high-risk threat event", "high-risk threat events"},
	Threat:        {"threat event", "threat events"},
	SystemStatus:  {"system status event", "system status events"},
	Configuration: {"configuration event", "configuration events"},
}

// NewContent returns a Content rendering with cfg. It parses the link
// templates and the templates (built-in and overrides) now, so that any
// mistake is an error here rather than in an email; the error wraps
// [ErrContent] and names the field or file.
func NewContent(cfg ContentConfig) (*Content, error) {
	c := &Content{cfg: cfg}
	c.once.Do(c.init)
	if c.err != nil {
		return nil, c.err
	}
	return c, nil
}

// init parses the configuration once, for NewContent or the first Render
// of a zero Content.
func (c *Content) init() {
	c.err = c.setup()
}

// setup applies the defaults of the configuration and parses its links
// and templates.
func (c *Content) setup() error {
	if err := c.cfg.applyDefaults(); err != nil {
		return err
	}
	if err := c.parseLinks(); err != nil {
		return err
	}
	// Brand and render.BrandConfig have the same fields, so that a change
	// to one without the other does not compile.
	brand, err := render.NewBrand(render.BrandConfig(c.cfg.Brand))
	if err != nil {
		return fmt.Errorf("%w: ContentConfig.%w", ErrContent, err)
	}
	c.brand = brand
	if c.bands, err = checkBands(c.cfg.Bands); err != nil {
		return err
	}
	files, host, err := templateFiles(c.cfg.Templates)
	if err != nil {
		return err
	}
	return c.parseTemplates(files, host)
}

// applyDefaults checks MaxEvents and fills the zero fields.
func (cfg *ContentConfig) applyDefaults() error {
	if cfg.MaxEvents < 0 {
		return fmt.Errorf("%w: ContentConfig.MaxEvents is %d; want 0 (default %d) or more", ErrContent, cfg.MaxEvents, DefaultMaxEvents)
	}
	cfg.MaxEvents = cmp.Or(cfg.MaxEvents, DefaultMaxEvents)
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Catalog == nil {
		cfg.Catalog = DefaultCatalog()
	}
	if cfg.Bands == nil {
		cfg.Bands = DefaultBands()
	}
	return nil
}

// parseLinks parses the link templates EventURL and HuntingURL.
func (c *Content) parseLinks() error {
	var err error
	if c.cfg.EventURL != "" {
		if c.eventURL, err = render.ParseURL(c.cfg.EventURL, "tenant", "category", "id"); err != nil {
			return fmt.Errorf("%w: ContentConfig.EventURL: %w", ErrContent, err)
		}
	}
	if c.cfg.HuntingURL != "" {
		if c.huntingURL, err = render.ParseURL(c.cfg.HuntingURL, "tenant", "category"); err != nil {
			return fmt.Errorf("%w: ContentConfig.HuntingURL: %w", ErrContent, err)
		}
	}
	return nil
}

// parseTemplates parses the subject and the bodies from files, the
// sources by file name. The bodies and subject that only built-in files
// make up (none of them is in host, the host's files) are printed by the
// built-in layout instead, which prints the same bytes faster.
func (c *Content) parseTemplates(files map[string]string, host map[string]bool) error {
	if host["subject.txt"] {
		subject, err := render.ParseText("subject", files["subject.txt"], nil)
		if err != nil {
			return fmt.Errorf("%w: template subject.txt: %w", ErrContent, err)
		}
		c.subject = subject
	}
	c.bodies = make(map[CategoryID]body)
	for name := range files {
		base, ext, _ := strings.Cut(name, ".")
		if ext != "txt" || base == "layout" || base == "subject" {
			continue
		}
		if bb := lookupBuiltin(base); bb != nil && !host[name] && !host[base+".html"] && !host["layout.txt"] && !host["layout.html"] {
			if base == "default" {
				c.fallback = body{builtin: bb}
			} else {
				c.bodies[CategoryID(base)] = body{builtin: bb}
			}
			continue
		}
		// Layout blocks follow the body: a body's own {{define}} of a block
		// would otherwise be replaced by the layout's.
		t, err := render.Parse(base,
			files[name]+"{{/* layout */ -}}\n"+files["layout.txt"],
			files[base+".html"]+"{{/* layout */ -}}\n"+files["layout.html"], nil)
		if err != nil {
			return fmt.Errorf("%w: templates %s.txt and %[2]s.html: %w", ErrContent, base, err)
		}
		if base == "default" {
			c.fallback = body{tmpl: t}
		} else {
			c.bodies[CategoryID(base)] = body{tmpl: t}
		}
	}
	return nil
}

// templateFiles returns the sources of every template file, the built-in
// ones replaced by those in overrides, and the names of the files that
// overrides replaced or added.
func templateFiles(overrides fs.FS) (files map[string]string, host map[string]bool, err error) {
	hostFiles := make(map[string]string)
	if overrides != nil {
		if err := readTemplates(hostFiles, overrides, ".", false); err != nil {
			return nil, nil, err
		}
		// The two parts of an email say the same thing, so they are
		// replaced together.
		if err := checkPairs(hostFiles); err != nil {
			return nil, nil, err
		}
	}
	files = make(map[string]string, len(hostFiles)+12)
	if err := readTemplates(files, builtinTemplates, "templates", true); err != nil {
		return nil, nil, err
	}
	maps.Copy(files, hostFiles)
	host = make(map[string]bool, len(hostFiles))
	for name := range hostFiles {
		host[name] = true
	}
	return files, host, checkPairs(files)
}

// readTemplates adds to files the source of every file in dir of fsys. The
// names of files that are not built in must be template names.
func readTemplates(files map[string]string, fsys fs.FS, dir string, builtin bool) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("%w: ContentConfig.Templates: %w", ErrContent, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			return fmt.Errorf("%w: ContentConfig.Templates: unexpected directory %q", ErrContent, name)
		}
		if !builtin {
			if err := checkTemplateName(name); err != nil {
				return err
			}
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%w: ContentConfig.Templates: %w", ErrContent, err)
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("%w: template %s is not valid UTF-8", ErrContent, name)
		}
		files[name] = string(b)
	}
	return nil
}

// checkPairs reports a .txt body or layout without its .html, or the
// reverse.
func checkPairs(files map[string]string) error {
	for name := range files {
		base, ext, _ := strings.Cut(name, ".")
		if base == "subject" {
			continue
		}
		other := base + ".html"
		if ext == "html" {
			other = base + ".txt"
		}
		if _, ok := files[other]; !ok {
			return fmt.Errorf("%w: template %s has no %s beside it", ErrContent, name, other)
		}
	}
	return nil
}

func checkTemplateName(name string) error {
	base, ext, _ := strings.Cut(name, ".")
	switch {
	case name == "subject.txt":
		return nil
	case ext != "txt" && ext != "html":
		return fmt.Errorf("%w: ContentConfig.Templates: unexpected file %q (want .txt or .html)", ErrContent, name)
	case base == "subject":
		return fmt.Errorf("%w: ContentConfig.Templates: unexpected file %q (the subject is subject.txt)", ErrContent, name)
	case base == "default" || base == "layout":
		return nil
	}
	if err := CategoryID(base).Validate(); err != nil {
		return fmt.Errorf("%w: ContentConfig.Templates: file %q is not named after a category: %w", ErrContent, name, err)
	}
	return nil
}

// Render fills msg.Subject, msg.Text and msg.HTML from msg.Category,
// msg.Tenant, msg.Events, msg.Carried and msg.Location (the recipients'
// time zone; when nil, [ContentConfig.Location]). Events are listed in the
// order given. On error msg is left unchanged; the error wraps
// [ErrContent].
func (c *Content) Render(msg *Message) error {
	c.once.Do(c.init)
	if c.err != nil {
		return c.err
	}
	if err := checkRenderable(msg); err != nil {
		return err
	}
	data := c.data(msg)
	subject, err := c.renderSubject(msg.ID, data)
	if err != nil {
		return err
	}
	data.Subject = subject
	text, html, err := c.renderBodies(msg, data)
	if err != nil {
		return err
	}
	msg.Subject, msg.Text, msg.HTML = subject, text, html
	return nil
}

// checkRenderable reports a message with nothing to render.
func checkRenderable(msg *Message) error {
	switch {
	case msg == nil:
		return fmt.Errorf("%w: nil message", ErrContent)
	case len(msg.Events) == 0:
		return fmt.Errorf("%w: message %q has no events", ErrContent, msg.ID)
	case msg.Carried < 0 || msg.Carried > len(msg.Events):
		return fmt.Errorf("%w: message %q carries %d events of %d", ErrContent, msg.ID, msg.Carried, len(msg.Events))
	}
	return nil
}

// renderSubject renders the subject line of message id: one line, cut to
// maxSubjectRunes.
func (c *Content) renderSubject(id string, data *ContentData) (string, error) {
	var subject string
	if c.subject == nil {
		subject = builtinSubject(data)
	} else {
		var b strings.Builder
		if err := c.subject.Execute(&b, data); err != nil {
			return "", fmt.Errorf("%w: subject of message %q: %w", ErrContent, id, err)
		}
		subject = b.String()
	}
	subject = render.Line(subject)
	if subject == "" {
		return "", fmt.Errorf("%w: subject of message %q is empty", ErrContent, id)
	}
	if utf8.RuneCountInString(subject) > maxSubjectRunes {
		r := []rune(subject)
		subject = strings.TrimRight(string(r[:maxSubjectRunes-1]), " ") + "…"
	}
	return subject, nil
}

// renderBodies renders the plain-text and HTML bodies of msg with the
// templates of its category, or the default ones.
func (c *Content) renderBodies(msg *Message, data *ContentData) (text, html string, err error) {
	b, ok := c.bodies[msg.Category]
	if !ok {
		b = c.fallback
	}
	if b.builtin != nil {
		return b.builtin.text(data), b.builtin.html(data), nil
	}
	text, html, err = b.tmpl.Execute(data)
	if err != nil {
		return "", "", fmt.Errorf("%w: message %q: %w", ErrContent, msg.ID, err)
	}
	// Layout files hold blocks between which whitespace is output; end
	// each part with exactly one newline whatever their formatting.
	return strings.TrimRight(text, " \t\r\n") + "\n", strings.TrimRight(html, " \t\r\n") + "\n", nil
}

// data returns what the templates of msg are executed with, but the
// subject.
func (c *Content) data(msg *Message) *ContentData {
	loc := msg.Location
	if loc == nil {
		loc = c.cfg.Location
	}
	name := string(msg.Category)
	if cat, ok := c.cfg.Catalog.Lookup(msg.Category); ok {
		name = cat.Name
	}
	noun, ok := nouns[msg.Category]
	if !ok {
		noun = [2]string{"event", "events"}
	}
	shown, more := render.Cut(msg.Events, c.cfg.MaxEvents)
	d := &ContentData{
		Category:     msg.Category,
		CategoryName: render.Line(name),
		Tenant:       render.Line(msg.Tenant),
		Count:        len(msg.Events),
		Carried:      msg.Carried,
		Noun:         render.Plural(len(msg.Events), noun[0], noun[1]),
		Events:       make([]ContentEvent, len(shown)),
		More:         more,
		Zone:         render.Line(loc.String()),
		Brand:        BrandData(c.brand.View(msg.Tenant)),
	}
	if more > 0 {
		d.MoreURL = c.huntingURL.Expand(func(p string) string {
			if p == "tenant" {
				return msg.Tenant
			}
			return string(msg.Category)
		})
	}
	for i := range shown {
		c.event(&d.Events[i], msg, &shown[i], loc)
		d.Scored = d.Scored || d.Events[i].Score != ""
	}
	scored, highest := false, 0.0
	for i := range msg.Events {
		if s := msg.Events[i].Score; s != 0 && (!scored || s > highest) {
			scored, highest = true, s
		}
	}
	if scored {
		d.Highest = c.bands.severity(highest)
	}
	d.Preheader = preheader(d)
	return d
}

// preheader returns the preheader of d: what a reader needs to decide to
// open the email, in the line the mail client shows.
func preheader(d *ContentData) string {
	var b strings.Builder
	if d.Highest.Score != "" {
		b.WriteString("Highest score ")
		b.WriteString(d.Highest.String())
		b.WriteString(". ")
	}
	writeInt(&b, d.Count)
	b.WriteByte(' ')
	b.WriteString(d.Noun)
	b.WriteString(" for ")
	b.WriteString(d.Tenant)
	b.WriteByte('.')
	return b.String()
}

// event fills ce, event e of msg ready to print, with its time in loc.
func (c *Content) event(ce *ContentEvent, msg *Message, e *Event, loc *time.Location) {
	ce.ID = render.Line(e.ID)
	ce.Asset = render.Line(e.Asset)
	ce.Summary = render.Line(e.Summary)
	ce.Time = render.DateTime(e.Time, loc)
	if e.Score != 0 {
		ce.Severity = c.bands.severity(e.Score)
	}
	if c.eventURL != nil && e.ID != "" {
		ce.URL = c.eventURL.Expand(func(p string) string {
			switch p {
			case "tenant":
				return cmp.Or(e.Tenant, msg.Tenant)
			case "category":
				return string(cmp.Or(e.Category, msg.Category))
			}
			return e.ID
		})
	}
}
