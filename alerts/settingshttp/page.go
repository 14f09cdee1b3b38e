package settingshttp

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/alertmail/alertmail/alerts"
)

// The page's template, script, style sheet and icon, in the binary: no build
// step, nothing fetched from elsewhere.
var (
	//go:embed templates/page.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS

	pageTemplate = template.Must(template.ParseFS(templateFS, "templates/page.html"))
)

// pageData is what the page's template shows.
type pageData struct {
	Title         string
	Tenant        string
	Version       uint64
	CSRFToken     string
	AllOn         bool
	Categories    []pageCategory
	Recipients    []string
	MaxRecipients int
}

// pageCategory is one category's row on the page.
type pageCategory struct {
	ID          alerts.CategoryID
	Name        string
	Description string
	On          bool
}

// servePage renders the settings page with the tenant's stored settings.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	tenant, cur := h.current(w, r)
	if cur == nil {
		return
	}
	catalog := catalogOf(cur)
	data := pageData{
		Title:         h.title,
		Tenant:        tenant,
		Version:       cur.Version,
		AllOn:         catalog.Len() > 0,
		Recipients:    cur.Recipients(),
		MaxRecipients: catalog.MaxRecipients(),
	}
	if h.csrfToken != nil {
		data.CSRFToken = h.csrfToken(r)
	}
	for _, c := range catalog.Categories() {
		on := cur.Enabled(c.ID)
		data.AllOn = data.AllOn && on
		data.Categories = append(data.Categories, pageCategory{ID: c.ID, Name: c.Name, Description: c.Description, On: on})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		h.serverError(w, r, "rendering the page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// serveStatic serves the page's script, style sheet and icon.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sub, _ := fs.Sub(staticFS, "static")
	if _, err := fs.Stat(sub, name); err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, sub, name)
}
