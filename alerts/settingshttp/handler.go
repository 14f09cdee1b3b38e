package settingshttp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/alertmail/alertmail/alerts"
)

// Config configures [New]. Store and Tenant are required; every other
// field has a working zero value, stated in its doc.
type Config struct {
	// Store loads and saves the settings. Required. Give it the host's
	// [alerts.Dispatcher] (with [alerts.DispatcherConfig.Saver] set), so
	// that a save takes effect on the alerts already queued, or the
	// [alerts.SettingsStore] itself.
	Store alerts.SettingsStore

	// Tenant returns the tenant of the request: the one the host's
	// authentication found for the signed-in user. Required. The handler
	// takes the tenant from nowhere else, neither the URL nor the body. An
	// error ends the request with 403 Forbidden (the error is logged, not
	// shown).
	Tenant func(r *http.Request) (string, error)

	// CSRFToken returns the anti-CSRF token of the request's session. The
	// page embeds it and sends it back in the X-CSRF-Token header of every
	// state-changing request (PUT, PATCH, POST), and the handler refuses
	// with 403 one whose header differs, or any when the function returns
	// "". Default: nil, no token: cross-origin requests are refused all the
	// same ([http.CrossOriginProtection] is always on), which protects
	// users of browsers that send Sec-Fetch-Site or Origin, that is every
	// browser since 2023.
	CSRFToken func(r *http.Request) string

	// MaxBodyBytes bounds a request's body; a larger one is refused with
	// 413 Content Too Large. Default: [alerts.MaxDocumentSize], the largest
	// settings document.
	MaxBodyBytes int64

	// Title is the heading of the page. Default: "Email Alerts".
	Title string

	// Logger receives the errors that are the server's, not the client's
	// (a store that fails, a tenant function that refuses). Default: nil,
	// quiet.
	Logger *slog.Logger
}

// A Handler is the settings API and page of [Config.Store], for the tenant
// of each request. Mount it under a path ending in "/", with the prefix
// stripped, so that the page's relative links resolve:
//
//	mux.Handle("/alerts/", http.StripPrefix("/alerts", h))
//
// A Handler is safe for concurrent use. Create one with [New]; the zero
// value is not usable.
type Handler struct {
	store     alerts.SettingsStore
	tenant    func(*http.Request) (string, error)
	csrfToken func(*http.Request) string
	maxBody   int64
	title     string
	log       *slog.Logger
	origin    *http.CrossOriginProtection
	mux       *http.ServeMux
}

// New returns a Handler configured by cfg, or an error naming the field of
// cfg that is wrong.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("settingshttp: Config.Store is nil")
	case cfg.Tenant == nil:
		return nil, errors.New("settingshttp: Config.Tenant is nil")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("settingshttp: Config.MaxBodyBytes is %d; want 0 (default %d) or more", cfg.MaxBodyBytes, alerts.MaxDocumentSize)
	}
	h := &Handler{
		store:     cfg.Store,
		tenant:    cfg.Tenant,
		csrfToken: cfg.CSRFToken,
		maxBody:   cfg.MaxBodyBytes,
		title:     cfg.Title,
		log:       cfg.Logger,
		origin:    http.NewCrossOriginProtection(),
		mux:       http.NewServeMux(),
	}
	if h.maxBody == 0 {
		h.maxBody = alerts.MaxDocumentSize
	}
	if h.title == "" {
		h.title = "Email Alerts"
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /{$}", h.servePage)
	h.mux.HandleFunc("GET /static/{name}", serveStatic)
	h.mux.HandleFunc("GET /api/settings", h.get)
	h.mux.HandleFunc("PUT /api/settings", h.put)
	h.mux.HandleFunc("PATCH /api/settings", h.patch)
	h.mux.HandleFunc("POST /api/settings/preview", h.preview)
	h.mux.HandleFunc("POST /api/settings/{op}", h.draftOp)
	return h, nil
}

// contentSecurityPolicy allows the page its own script, style sheet, icon
// and API, and nothing else: no inline script or style, no other origin,
// no framing, and DOM sinks that take strings (innerHTML) are off.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'"

// ServeHTTP answers the request; see the package documentation for the
// routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// requestTenant returns the request's tenant, or answers 403 and returns
// false.
func (h *Handler) requestTenant(w http.ResponseWriter, r *http.Request) (string, bool) {
	tenant, err := h.tenant(r)
	if err == nil {
		err = alerts.ValidateTenant(tenant)
	}
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "settingshttp: no tenant for the request", slog.String("path", r.URL.Path), slog.Any("error", err))
		writeProblem(w, &problem{Type: ProblemForbidden, Status: http.StatusForbidden, Detail: "No tenant for this request."})
		return "", false
	}
	return tenant, true
}

// allowChange answers 403 and returns false when a state-changing request
// comes from another origin or lacks the session's CSRF token.
func (h *Handler) allowChange(w http.ResponseWriter, r *http.Request) bool {
	if err := h.origin.Check(r); err != nil {
		writeProblem(w, &problem{Type: ProblemForbidden, Status: http.StatusForbidden, Detail: "A cross-origin request may not change settings."})
		return false
	}
	if h.csrfToken == nil {
		return true
	}
	want, got := h.csrfToken(r), r.Header.Get("X-CSRF-Token")
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		writeProblem(w, &problem{
			Type: ProblemForbidden, Status: http.StatusForbidden,
			Detail: "The request does not carry the session's anti-CSRF token; reload the page.",
			Errors: []fieldError{{Header: "X-CSRF-Token", Detail: "missing or wrong"}},
		})
		return false
	}
	return true
}

// current returns the request's tenant and its stored settings, or
// answers 403 or 500 and returns nil.
func (h *Handler) current(w http.ResponseWriter, r *http.Request) (string, *alerts.Settings) {
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return "", nil
	}
	return tenant, h.load(w, r, tenant)
}

// load returns tenant's stored settings, or answers 500 and returns nil.
func (h *Handler) load(w http.ResponseWriter, r *http.Request, tenant string) *alerts.Settings {
	cur, err := h.store.Load(r.Context(), tenant)
	if err != nil {
		h.serverError(w, r, "loading the settings", err)
		return nil
	}
	return cur
}

// An edit is a state-changing request, checked and read: its body and the
// stored settings of its tenant.
type edit struct {
	tenant  string
	body    []byte
	cur     *alerts.Settings
	catalog *alerts.Catalog
}

// beginEdit checks a state-changing request (tenant, origin, CSRF token),
// reads its body, which must have one of the media types, and loads the
// stored settings. When one of those fails, it answers the request and
// returns false.
func (h *Handler) beginEdit(w http.ResponseWriter, r *http.Request, mediaTypes ...string) (edit, bool) {
	tenant, ok := h.requestTenant(w, r)
	if !ok || !h.allowChange(w, r) {
		return edit{}, false
	}
	body, ok := h.readBody(w, r, mediaTypes...)
	if !ok {
		return edit{}, false
	}
	cur := h.load(w, r, tenant)
	if cur == nil {
		return edit{}, false
	}
	return edit{tenant: tenant, body: body, cur: cur, catalog: catalogOf(cur)}, true
}

// draft returns the body's document as settings of the request's tenant.
// With version not nil, the settings are at *version, and a document
// naming another version is refused.
func (e edit) draft(version *uint64) (*alerts.Settings, *problem) {
	doc, pr := draftDocument(e.catalog, e.tenant, e.body)
	if pr != nil {
		return nil, pr
	}
	if version != nil {
		if doc.Version != 0 && doc.Version != *version {
			return nil, &problem{
				Type: ProblemInvalid, Status: http.StatusBadRequest,
				Detail: fmt.Sprintf("The document's version %d is not the version %d If-Match names.", doc.Version, *version),
				Errors: []fieldError{{Pointer: "#/version", Detail: fmt.Sprintf("want %d, as in If-Match, or leave it out", *version)}},
			}
		}
		doc.Version = *version
	}
	return build(e.catalog, doc)
}

// serverError logs err and answers 500 without its text: a store's error
// may say more than a client should read.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	h.log.LogAttrs(r.Context(), slog.LevelError, "settingshttp: "+doing, slog.String("path", r.URL.Path), slog.Any("error", err))
	writeProblem(w, &problem{Type: ProblemServer, Status: http.StatusInternalServerError, Detail: "The settings could not be read or saved; try again."})
}

// etag is the entity tag of settings at version v.
func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// get answers the tenant's settings document, with its version as ETag.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	_, cur := h.current(w, r)
	if cur == nil {
		return
	}
	tag := etag(cur.Version)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-store")
	if inm := r.Header.Get("If-None-Match"); inm != "" && slicesContainsTag(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, cur.Document())
}

// slicesContainsTag reports whether the If-None-Match list holds tag or *
// (weak comparison: a W/ prefix is ignored).
func slicesContainsTag(list, tag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// ifMatch returns the version the request's If-Match names, or answers
// 428 (none, or "*") or 400 (not one version's tag) and returns false.
func ifMatch(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		writeProblem(w, &problem{
			Type: ProblemVersionRequired, Status: http.StatusPreconditionRequired,
			Detail: "Send the ETag of the settings the edit started from in If-Match, so that a save never overwrites one you have not seen.",
			Errors: []fieldError{{Header: "If-Match", Detail: "want the settings' ETag, such as \"3\""}},
		})
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`), 10, 64)
	if err != nil || len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		writeProblem(w, &problem{
			Type: ProblemInvalid, Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("If-Match %q is not the ETag of a settings version.", v),
			Errors: []fieldError{{Header: "If-Match", Detail: "want one strong ETag, such as \"3\""}},
		})
		return 0, false
	}
	return n, true
}

// put replaces the tenant's settings with the body's document, if they are
// still at the version If-Match names.
func (h *Handler) put(w http.ResponseWriter, r *http.Request) {
	e, ok := h.beginEdit(w, r, "application/json")
	if !ok {
		return
	}
	base, ok := ifMatch(w, r)
	if !ok {
		return
	}
	next, pr := e.draft(&base)
	if pr != nil {
		writeProblem(w, pr)
		return
	}
	h.save(w, r, next)
}

// patch applies the body's categories and recipients to the tenant's
// settings, if they are still at the version If-Match names.
func (h *Handler) patch(w http.ResponseWriter, r *http.Request) {
	e, ok := h.beginEdit(w, r, "application/merge-patch+json", "application/json")
	if !ok {
		return
	}
	base, ok := ifMatch(w, r)
	if !ok {
		return
	}
	if e.cur.Version != base {
		writeConflict(w, base, e.cur.Version)
		return
	}
	next, pr := patchSettings(e.tenant, e.cur, e.body)
	if pr != nil {
		writeProblem(w, pr)
		return
	}
	h.save(w, r, next)
}

// save saves next and answers the stored document, or the conflict.
func (h *Handler) save(w http.ResponseWriter, r *http.Request, next *alerts.Settings) {
	saved, err := h.store.Save(r.Context(), next)
	var ce *alerts.ConflictError
	switch {
	case errors.As(err, &ce):
		writeConflict(w, ce.Base, ce.Current)
		return
	case saved == nil && err != nil:
		if pr := documentProblem(err, nil); pr.Status != http.StatusInternalServerError {
			writeProblem(w, pr)
			return
		}
		h.serverError(w, r, "saving the settings", err)
		return
	case err != nil:
		// Saved, with an aftermath the host must hear about (a
		// *alerts.DropError from Dispatcher.Save): the save stands.
		h.log.LogAttrs(r.Context(), slog.LevelError, "settingshttp: settings saved with an error", slog.String("tenant", saved.Tenant), slog.Any("error", err))
	}
	w.Header().Set("ETag", etag(saved.Version))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, saved.Document())
}

// writeConflict answers 412 to an edit based on version base while
// version current is stored, with current's ETag.
func writeConflict(w http.ResponseWriter, base, current uint64) {
	w.Header().Set("ETag", etag(current))
	writeProblem(w, &problem{
		Type: ProblemConflict, Status: http.StatusPreconditionFailed,
		Title:  "Changed by someone else",
		Detail: fmt.Sprintf("The settings were saved by someone else since version %d was loaded: version %d is stored now. Load them again and re-apply the edit.", base, current),
		Base:   &base, Current: &current,
	})
}

// preview answers what saving the body's draft would change, against the
// stored settings; a draft based on an older version is the 412 conflict.
func (h *Handler) preview(w http.ResponseWriter, r *http.Request) {
	e, ok := h.beginEdit(w, r, "application/json")
	if !ok {
		return
	}
	draft, pr := e.draft(nil)
	if pr != nil {
		writeProblem(w, pr)
		return
	}
	if draft.Version != e.cur.Version {
		writeConflict(w, draft.Version, e.cur.Version)
		return
	}
	writeJSON(w, http.StatusOK, changeOf(alerts.Diff(e.cur, draft)))
}

// draftOps are the bulk edits of the screen, applied to a draft.
var draftOps = map[string]func(*alerts.Draft){
	"enable-all":  (*alerts.Draft).EnableAll,
	"disable-all": (*alerts.Draft).DisableAll,
	"reset":       (*alerts.Draft).Reset,
}

// draftOp applies Enable all, Disable all or Reset to the body's draft (or
// to the stored settings, for an empty body) and answers the new draft and
// what the operation flips. Nothing is saved.
func (h *Handler) draftOp(w http.ResponseWriter, r *http.Request) {
	op, found := draftOps[r.PathValue("op")]
	if !found {
		writeProblem(w, &problem{Type: ProblemNotFound, Status: http.StatusNotFound,
			Detail: fmt.Sprintf("No operation %q: want enable-all, disable-all, reset or preview.", r.PathValue("op"))})
		return
	}
	e, ok := h.beginEdit(w, r, "application/json")
	if !ok {
		return
	}
	from := e.cur
	if len(e.body) > 0 {
		var pr *problem
		if from, pr = e.draft(nil); pr != nil {
			writeProblem(w, pr)
			return
		}
	}
	d := from.Edit()
	op(d)
	writeJSON(w, http.StatusOK, draftResult{Draft: d.Settings().Document(), Change: changeOf(d.Change())})
}

// catalogOf returns the catalog of the stored settings.
func catalogOf(s *alerts.Settings) *alerts.Catalog {
	if c := s.Catalog(); c != nil {
		return c
	}
	return alerts.DefaultCatalog()
}
