package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/mailauth"
)

var (
	//go:embed templates
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// The console's pages: no script, style sheets from its own origin, and
// frames (an email's HTML part) from its own origin only.
const consolePolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-src 'self'; base-uri 'none'; frame-ancestors 'none'"

// emailPolicy is the policy of an email's HTML part, shown in a frame: the
// inline styles emails need, nothing else, in a sandbox.
const emailPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"

// pageNames are the console's pages, each templates/<name>.html in
// templates/layout.html.
var pageNames = []string{"home", "outbox", "email", "digest", "sender"}

// routes returns the console's handler.
func (c *console) routes() http.Handler {
	c.pages = c.parsePages()
	mux := http.NewServeMux()
	mux.Handle("/settings/", http.StripPrefix("/settings", c.settings))
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	mux.HandleFunc("GET /{$}", c.homePage)
	mux.HandleFunc("POST /events", c.fireForm)
	mux.HandleFunc("POST /clock", c.skipForm)
	mux.HandleFunc("POST /tenant", c.tenantForm)

	mux.HandleFunc("GET /outbox", c.outboxPage)
	mux.HandleFunc("GET /outbox/{n}", c.emailPage)
	mux.HandleFunc("GET /outbox/{n}/html", c.emailHTML)
	mux.HandleFunc("GET /outbox/{n}/raw", c.emailRaw)

	mux.Handle("GET /metrics", c.metrics.handler)

	mux.HandleFunc("GET /digest", c.digestPage)
	mux.HandleFunc("GET /sender", c.senderPage)
	return withHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// withHeaders sets the console's security headers on the responses of
// next, except the settings handler's, which sets its own.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/settings/") { // the settings handler sets its own
			w.Header().Set("Content-Security-Policy", consolePolicy)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Referrer-Policy", "same-origin")
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// parsePages parses the page templates, by name; it panics if one does
// not parse, as they are embedded.
func (c *console) parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"when":    formatTime,
		"plural":  plural,
		"joinTo":  func(to []string) string { return strings.Join(to, ", ") },
		"outcome": describe,
		"category": func(id alerts.CategoryID) string {
			if cat, ok := c.catalog.Lookup(id); ok {
				return cat.Name
			}
			return string(id)
		},
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// render writes the page name, titled title, showing data and the flash
// message, which it clears.
func (c *console) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	c.mu.Lock()
	flash := c.flash
	c.flash = ""
	c.mu.Unlock()
	var buf bytes.Buffer
	err := c.pages[name].Execute(&buf, pageData{
		Title: title, Page: name, Now: c.clock.Now(), Tenant: c.signedIn(r), Tenants: sampleTenants,
		Catalog: c.catalog.Categories(), Flash: flash, Path: r.URL.Path, Data: data,
	})
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// homePage shows the form that fires events and the last batch fired.
func (c *console) homePage(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	fired := slices.Clone(c.fired)
	c.mu.Unlock()
	c.render(w, r, "home", "Console", fired)
}

// tenantForm signs the visitor in as the tenant chosen, by a cookie.
func (c *console) tenantForm(w http.ResponseWriter, r *http.Request) {
	if id := r.FormValue("tenant"); known(id) {
		http.SetCookie(w, &http.Cookie{Name: "tenant", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

// outboxPage shows the keys held back and the emails sent.
func (c *console) outboxPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "outbox", "Outbox", outboxData{Waiting: c.waitingKeys(), Emails: c.outbox.Emails()})
}

// findEmail returns the email numbered in r's path; when there is none,
// it answers 404 and returns false.
func (c *console) findEmail(w http.ResponseWriter, r *http.Request) (*email, bool) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	e, ok := c.outbox.Email(n)
	if !ok {
		http.NotFound(w, r)
	}
	return e, ok
}

// emailPage shows one email: its headers and both parts.
func (c *console) emailPage(w http.ResponseWriter, r *http.Request) {
	if e, ok := c.findEmail(w, r); ok {
		c.render(w, r, "email", fmt.Sprintf("Email %d", e.N), e)
	}
}

// emailHTML serves an email's HTML part, for the email page's frame.
func (c *console) emailHTML(w http.ResponseWriter, r *http.Request) {
	if e, ok := c.findEmail(w, r); ok {
		w.Header().Set("Content-Security-Policy", emailPolicy)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(e.HTML))
	}
}

// emailRaw serves an email as it was received.
func (c *console) emailRaw(w http.ResponseWriter, r *http.Request) {
	if e, ok := c.findEmail(w, r); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(e.Raw)
	}
}

// digestPage shows each tenant's next digest and the items it holds.
func (c *console) digestPage(w http.ResponseWriter, r *http.Request) {
	data, err := c.digestData(r)
	if err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c.render(w, r, "digest", "Next digest", data)
}

// senderPage shows the sender check of the domain in the form, if any.
func (c *console) senderPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "sender", "Sender check", c.senderCheck(r))
}

// pageData is what every page's layout shows, with the page's own Data.
type pageData struct {
	Title, Page, Tenant, Flash, Path string
	Now                              time.Time
	Tenants                          []sampleTenant
	Catalog                          []alerts.Category
	Data                             any
}

// signedIn is the tenant the console's visitor plays, from a cookie: the
// first sample tenant unless another was chosen.
func (c *console) signedIn(r *http.Request) string {
	if ck, err := r.Cookie("tenant"); err == nil && known(ck.Value) {
		return ck.Value
	}
	return sampleTenants[0].ID
}

func known(tenant string) bool {
	return slices.ContainsFunc(sampleTenants, func(t sampleTenant) bool { return t.ID == tenant })
}

// back is where a form returns to: its "back" field when it is a path of
// the console, the home page otherwise.
func back(r *http.Request) string {
	if b := r.FormValue("back"); strings.HasPrefix(b, "/") && !strings.HasPrefix(b, "//") && !strings.Contains(b, `\`) {
		return b
	}
	return "/"
}

// fireForm fires the events the form describes.
func (c *console) fireForm(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		score, err := strconv.ParseFloat(r.FormValue("score"), 64)
		if err != nil {
			return fmt.Errorf("score %q is not a number", r.FormValue("score"))
		}
		count, err := strconv.Atoi(r.FormValue("count"))
		if err != nil || count < 1 || count > 100 {
			return fmt.Errorf("count %q: want 1 to 100", r.FormValue("count"))
		}
		if !known(r.FormValue("tenant")) {
			return fmt.Errorf("no tenant %q", r.FormValue("tenant"))
		}
		return c.fire(r.Context(), alerts.Event{
			Tenant:      r.FormValue("tenant"),
			Category:    alerts.CategoryID(r.FormValue("category")),
			Score:       score,
			Asset:       r.FormValue("asset"),
			Fingerprint: r.FormValue("summary"),
			Summary:     r.FormValue("summary"),
		}, count)
	}()
	if err != nil {
		c.mu.Lock()
		c.flash = "Not fired: " + err.Error()
		c.mu.Unlock()
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// skipForm moves the console's clock forward.
func (c *console) skipForm(w http.ResponseWriter, r *http.Request) {
	switch r.FormValue("skip") {
	case "1h":
		c.clock.Skip(time.Hour)
	case "4h":
		c.clock.Skip(4 * time.Hour)
	case "digest": // the signed-in tenant's
		now := c.clock.Now()
		_, next := c.schedules[c.signedIn(r)].Next(now)
		c.clock.Skip(next.Sub(now) + time.Second)
	}
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

// A waitingKey is a key with events held back, as the outbox lists it.
type waitingKey struct {
	Tenant   string
	Category string
	Result   alerts.Result
}

// waitingKeys returns the keys the page saw held back whose time has not
// come; those whose time came are Dispatcher.Run's to send, and are
// forgotten.
func (c *console) waitingKeys() []waitingKey {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []waitingKey
	for key, res := range c.waiting {
		if !res.Next.After(now) {
			delete(c.waiting, key)
			continue
		}
		name := string(key.Category)
		if cat, ok := c.catalog.Lookup(key.Category); ok {
			name = cat.Name
		}
		out = append(out, waitingKey{Tenant: key.Tenant, Category: name, Result: res})
	}
	slices.SortFunc(out, func(a, b waitingKey) int { return strings.Compare(a.Tenant+a.Category, b.Tenant+b.Category) })
	return out
}

type outboxData struct {
	Waiting []waitingKey
	Emails  []*email
}

// digestTenant is one tenant's next digest, as the digest page shows it.
type digestTenant struct {
	Tenant   sampleTenant
	Schedule string
	Next     time.Time
	Items    []digest.Item
}

type digestData struct {
	NextDue time.Time
	Tenants []digestTenant
}

func (c *console) digestData(r *http.Request) (digestData, error) {
	data := digestData{NextDue: c.digests.NextDue()}
	for _, t := range sampleTenants {
		items, _, err := c.digests.Store().Pending(r.Context(), t.ID)
		if err != nil {
			return data, err
		}
		_, next := c.schedules[t.ID].Next(c.clock.Now())
		data.Tenants = append(data.Tenants, digestTenant{Tenant: t, Schedule: "every day at 08:00 " + t.Zone, Next: next, Items: items})
	}
	return data, nil
}

// senderData is the sender check's form and answer.
type senderData struct {
	Domain   string
	Samples  []string
	Decision *mailauth.Decision
	Err      string
}

func (c *console) senderCheck(r *http.Request) senderData {
	data := senderData{Domain: strings.TrimSpace(r.FormValue("domain")), Samples: []string{"ready.example", "strict.example", "relaxed.example"}}
	if data.Domain == "" {
		return data
	}
	d, err := c.checker.Sender(r.Context(), mailauth.AlertEmails, mailauth.Customer{From: "alerts@" + data.Domain})
	switch {
	case errors.Is(err, mailauth.ErrSender):
		data.Err = fmt.Sprintf("%q is not a domain a customer could send from: %v", data.Domain, err)
	case err != nil:
		data.Err = err.Error()
	default:
		data.Decision = d
	}
	return data
}

// formatTime shows a time in UTC, to the second.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describe says what became of a fired event, for people.
func describe(res alerts.Result) string {
	switch res.Outcome {
	case alerts.Sent:
		return fmt.Sprintf("sent: one email covering %d %s", res.Events, plural(res.Events, "event", "events"))
	case alerts.Suppressed:
		return fmt.Sprintf("held back by the frequency limit: %d pending until %s", res.Pending, formatTime(res.Next))
	case alerts.BelowThreshold:
		return "under the threshold: kept for the daily digest"
	case alerts.CategoryDisabled:
		return "the category is off: dropped"
	case alerts.NoRecipients:
		return fmt.Sprintf("no recipients: %d pending", res.Pending)
	case alerts.SendFailed:
		return fmt.Sprintf("the send failed (%v): %d pending", res.Err, res.Pending)
	}
	return string(res.Outcome)
}
