package settingshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/settingshttp"
)

// The test's stand-in for a host's authentication: the signed-in tenant
// comes in a header its middleware would set, and each tenant's session
// has its own anti-CSRF token.
const tenantHeader = "X-Test-Tenant"

func csrfTokenOf(tenant string) string { return "token-of-" + tenant }

// newHandler returns a handler over a new memory store of catalog (nil
// means the default catalog), and the store.
func newHandler(t *testing.T, catalog *alerts.Catalog, maxBody int64) (*settingshttp.Handler, *alerts.MemorySettingsStore) {
	t.Helper()
	store := alerts.NewMemorySettingsStore(catalog)
	h, err := settingshttp.New(settingshttp.Config{
		Store: store,
		Tenant: func(r *http.Request) (string, error) {
			if t := r.Header.Get(tenantHeader); t != "" {
				return t, nil
			}
			return "", errors.New("not signed in")
		},
		CSRFToken:    func(r *http.Request) string { return csrfTokenOf(r.Header.Get(tenantHeader)) },
		MaxBodyBytes: maxBody,
	})
	require.NoError(t, err)
	return h, store
}

// request is one call of the API, as tenant acme's page makes it unless
// the fields say otherwise.
type request struct {
	method, path, body string
	ifMatch            string
	tenant             string            // default "acme"; "-" for none
	header             map[string]string // added after the defaults; "" removes one
}

func do(t *testing.T, h http.Handler, req request) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(req.method, req.path, strings.NewReader(req.body))
	tenant := req.tenant
	if tenant == "" {
		tenant = "acme"
	}
	if tenant != "-" {
		r.Header.Set(tenantHeader, tenant)
		r.Header.Set("X-CSRF-Token", csrfTokenOf(tenant))
	}
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.ifMatch != "" {
		r.Header.Set("If-Match", req.ifMatch)
	}
	for k, v := range req.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// problem is the problem details body the handler answers errors with.
type problem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
	Errors  []struct{ Pointer, Header, Detail string }
	Base    *uint64 `json:"baseVersion"`
	Current *uint64 `json:"currentVersion"`
}

// decodeProblem checks that w is a problem+json answer of status and
// returns it.
func decodeProblem(t *testing.T, w *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equalf(t, status, w.Code, "status = %d; want %d (body %s)", w.Code, status, w.Body)
	require.Equalf(t, "application/problem+json", w.Header().Get("Content-Type"), "Content-Type = %q; want application/problem+json", w.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), "problem body %s", w.Body)
	assert.Equalf(t, status, p.Status, "problem status = %d; want %d", p.Status, status)
	assert.NotEmpty(t, p.Type, "problem type")
	assert.NotEmpty(t, p.Title, "problem title")
	return p
}

func decodeDocument(t *testing.T, w *httptest.ResponseRecorder) alerts.Document {
	t.Helper()
	require.Equalf(t, http.StatusOK, w.Code, "status = %d; want 200 (body %s)", w.Code, w.Body)
	var doc alerts.Document
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	return doc
}

// stored returns tenant's version and document in store.
func stored(t *testing.T, store alerts.SettingsStore, tenant string) alerts.Document {
	t.Helper()
	s, err := store.Load(context.Background(), tenant)
	require.NoError(t, err)
	return s.Document()
}

func TestNew(t *testing.T) {
	t.Parallel()
	store := alerts.NewMemorySettingsStore(nil)
	tenant := func(*http.Request) (string, error) { return "acme", nil }
	tests := []struct {
		name string
		cfg  settingshttp.Config
		want string
	}{
		{"no store", settingshttp.Config{Tenant: tenant}, "Config.Store"},
		{"no tenant", settingshttp.Config{Store: store}, "Config.Tenant"},
		{"negative body", settingshttp.Config{Store: store, Tenant: tenant, MaxBodyBytes: -1}, "Config.MaxBodyBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := settingshttp.New(tt.cfg)
			assert.Nilf(t, h, "New(%s) = %v; want nil", tt.name, h)
			require.Error(t, err)
			assert.Containsf(t, err.Error(), tt.want, "New(%s) = %v; want an error naming %s", tt.name, err, tt.want)
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t, nil, 0)

	w := do(t, h, request{method: "GET", path: "/api/settings"})
	doc := decodeDocument(t, w)
	assert.Equalf(t, `"0"`, w.Header().Get("ETag"), "ETag = %q; want %q", w.Header().Get("ETag"), `"0"`)
	assert.Equal(t, "acme", doc.Tenant)
	assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: false, alerts.ActiveThreat: true, alerts.SystemStatus: true, alerts.Configuration: false}, doc.Categories)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	w = do(t, h, request{method: "GET", path: "/api/settings", header: map[string]string{"If-None-Match": `"0"`}})
	assert.Equalf(t, http.StatusNotModified, w.Code, "GET with If-None-Match of the current ETag = %d; want 304", w.Code)

	p := decodeProblem(t, do(t, h, request{method: "GET", path: "/api/settings", tenant: "-"}), http.StatusForbidden)
	assert.Equal(t, settingshttp.ProblemForbidden, p.Type)
}

func TestPut(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	body := `{"categories": {"threat": true, "configuration": true}, "recipients": ["SOC@Acme.Example", "soc@acme.example"]}`

	w := do(t, h, request{method: "PUT", path: "/api/settings", body: body, ifMatch: `"0"`})
	doc := decodeDocument(t, w)
	assert.Equalf(t, `"1"`, w.Header().Get("ETag"), "ETag after the first save = %q; want %q", w.Header().Get("ETag"), `"1"`)
	assert.Equal(t, uint64(1), doc.Version)
	assert.Equal(t, []string{"SOC@acme.example", "soc@acme.example"}, doc.Recipients, "recipients, normalised")
	assert.Equal(t, doc, stored(t, store, "acme"), "the answer is what the store holds")
	// Categories the document leaves out take their default state.
	assert.True(t, doc.Categories[alerts.ActiveThreat])
}

// TestConflict saves from two clients that loaded the same version: the
// second is refused with 412 naming both versions, and nothing of it is
// stored.
func TestConflict(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"PUT", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			h, store := newHandler(t, nil, 0)
			// Both clients load version 0.
			etagA := do(t, h, request{method: "GET", path: "/api/settings"}).Header().Get("ETag")
			etagB := do(t, h, request{method: "GET", path: "/api/settings"}).Header().Get("ETag")
			require.Equal(t, `"0"`, etagA)
			require.Equal(t, etagA, etagB)

			w := do(t, h, request{method: method, path: "/api/settings", body: `{"categories": {"threat": true}}`, ifMatch: etagA})
			require.Equalf(t, http.StatusOK, w.Code, "client A's %s = %d; want 200 (%s)", method, w.Code, w.Body)

			w = do(t, h, request{method: method, path: "/api/settings", body: `{"categories": {"configuration": true}}`, ifMatch: etagB})
			p := decodeProblem(t, w, http.StatusPreconditionFailed)
			assert.Equal(t, settingshttp.ProblemConflict, p.Type)
			require.NotNil(t, p.Base, "baseVersion")
			require.NotNil(t, p.Current, "currentVersion")
			assert.Equalf(t, uint64(0), *p.Base, "baseVersion = %d; want 0", *p.Base)
			assert.Equalf(t, uint64(1), *p.Current, "currentVersion = %d; want 1", *p.Current)
			assert.Containsf(t, p.Detail, "version 0", "detail %q names the base version", p.Detail)
			assert.Containsf(t, p.Detail, "version 1", "detail %q names the current version", p.Detail)
			assert.Equalf(t, `"1"`, w.Header().Get("ETag"), "ETag of the 412 = %q; want the current version's", w.Header().Get("ETag"))

			doc := stored(t, store, "acme")
			assert.Equal(t, uint64(1), doc.Version)
			assert.True(t, doc.Categories[alerts.Threat], "client A's save stands")
			assert.False(t, doc.Categories[alerts.Configuration], "client B's save is not stored")
		})
	}
}

// TestInvalid sends bad requests: each is refused with a problem naming
// the bad field, and nothing is saved.
func TestInvalid(t *testing.T) {
	t.Parallel()
	tooMany := `{"recipients": ["a1@example.com", "a2@example.com", "a3@example.com", "a4@example.com", "a5@example.com", "a6@example.com"]}`
	tests := []struct {
		name    string
		req     request
		status  int
		pointer string // the "errors" member's, or header
		header  string
		detail  string // in the problem's detail or the field's
	}{
		{"unknown field", request{method: "PUT", body: `{"colour": "blue"}`}, 400, "#/colour", "", "unknown field"},
		{"field in the wrong case", request{method: "PUT", body: `{"Categories": {}}`}, 400, "#/Categories", "", "unknown field"},
		{"unknown category", request{method: "PUT", body: `{"categories": {"billing": true}}`}, 400, "#/categories/billing", "", `Unknown category "billing"`},
		{"category not a boolean", request{method: "PUT", body: `{"categories": {"threat": "yes"}}`}, 400, "#/categories/threat", "", "want true or false"},
		{"recipients not a list", request{method: "PUT", body: `{"recipients": "soc@acme.example"}`}, 400, "#/recipients", "", "want an array"},
		{"bad recipient", request{method: "PUT", body: `{"recipients": ["soc@acme.example", "Bob <bob@acme.example>"]}`}, 400, "#/recipients/1", "", `"Bob <bob@acme.example>"`},
		{"bad recipient in a patch", request{method: "PATCH", body: `{"recipients": ["bob@"]}`}, 400, "#/recipients/0", "", `"bob@"`},
		{"unknown category in a patch", request{method: "PATCH", body: `{"categories": {"billing": false}}`}, 400, "#/categories/billing", "", "unknown category"},
		{"too many recipients", request{method: "PUT", body: tooMany}, 400, "#/recipients/5", "", "Too many recipients"},
		{"version other than If-Match", request{method: "PUT", body: `{"version": 7}`}, 400, "#/version", "", "version 7"},
		{"broken JSON", request{method: "PUT", body: `{"categories": `}, 400, "", "", "Invalid settings document"},
		{"repeated field", request{method: "PUT", body: `{"recipients": [], "recipients": []}`}, 400, "", "", `field "recipients" appears twice`},
		{"If-Match not a version", request{method: "PUT", body: `{}`, ifMatch: `W/"0"`}, 400, "", "If-Match", "If-Match"},
		{"no If-Match", request{method: "PUT", body: `{}`, ifMatch: "-"}, 428, "", "If-Match", "If-Match"},
		{"If-Match *", request{method: "PATCH", body: `{}`, ifMatch: "*"}, 428, "", "If-Match", "If-Match"},
		{"not JSON", request{method: "PUT", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "", "Content-Type", "text/plain"},
		{"bad preview", request{method: "POST", path: "/api/settings/preview", body: `{"categories": {"nope": true}}`}, 400, "#/categories/nope", "", "unknown category"},
		{"bad draft", request{method: "POST", path: "/api/settings/enable-all", body: `{"recipients": ["x"]}`}, 400, "#/recipients/0", "", `"x"`},
		{"no such operation", request{method: "POST", path: "/api/settings/delete-all", body: `{}`}, 404, "", "", "delete-all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			catalog, err := alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 5})
			require.NoError(t, err)
			h, store := newHandler(t, catalog, 0)
			req := tt.req
			if req.path == "" {
				req.path = "/api/settings"
			}
			switch req.ifMatch {
			case "":
				req.ifMatch = `"0"`
			case "-":
				req.ifMatch = ""
			}
			p := decodeProblem(t, do(t, h, req), tt.status)
			if tt.pointer != "" || tt.header != "" {
				require.Lenf(t, p.Errors, 1, "%s: errors = %+v; want one naming %s%s", tt.name, p.Errors, tt.pointer, tt.header)
				assert.Equalf(t, tt.pointer, p.Errors[0].Pointer, "%s: pointer = %q; want %q", tt.name, p.Errors[0].Pointer, tt.pointer)
				assert.Equalf(t, tt.header, p.Errors[0].Header, "%s: header = %q; want %q", tt.name, p.Errors[0].Header, tt.header)
			}
			text := p.Detail
			for _, e := range p.Errors {
				text += " " + e.Detail
			}
			assert.Containsf(t, text, tt.detail, "%s: problem %q; want it to say %q", tt.name, text, tt.detail)
			assert.Equalf(t, uint64(0), stored(t, store, "acme").Version, "%s saved something", tt.name)
		})
	}
}

// TestTooLarge sends bodies over the handler's limit, and a document over
// the SDK's entry limit: 413, nothing saved.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 4096
	h, store := newHandler(t, nil, limit)
	big := `{"recipients": ["` + strings.Repeat("a", limit) + `@example.com"]}`
	for _, req := range []request{
		{method: "PUT", path: "/api/settings", body: big, ifMatch: `"0"`},
		{method: "PATCH", path: "/api/settings", body: big, ifMatch: `"0"`},
		{method: "POST", path: "/api/settings/preview", body: big},
		{method: "POST", path: "/api/settings/reset", body: big},
	} {
		p := decodeProblem(t, do(t, h, req), http.StatusRequestEntityTooLarge)
		assert.Equalf(t, settingshttp.ProblemTooLarge, p.Type, "%s %s: type = %q", req.method, req.path, p.Type)
		assert.Containsf(t, p.Detail, fmt.Sprint(limit), "%s %s: detail %q names the limit", req.method, req.path, p.Detail)
	}

	// Within the handler's limit, beyond the SDK's MaxDocumentEntries.
	h, store = newHandler(t, nil, 0)
	entries := `{"recipients": [` + strings.Repeat(`"",`, alerts.MaxDocumentEntries) + `""]}`
	p := decodeProblem(t, do(t, h, request{method: "PUT", path: "/api/settings", body: entries, ifMatch: `"0"`}), http.StatusRequestEntityTooLarge)
	assert.Containsf(t, p.Detail, "MaxDocumentEntries", "detail %q names the limit", p.Detail)
	assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "nothing saved")
}

// TestCSRF sends state-changing requests without the session's token, with
// another session's, and from another origin: all are refused with 403.
func TestCSRF(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	routes := []request{
		{method: "PUT", path: "/api/settings", body: `{"categories": {"threat": true}}`, ifMatch: `"0"`},
		{method: "PATCH", path: "/api/settings", body: `{"categories": {"threat": true}}`, ifMatch: `"0"`},
		{method: "POST", path: "/api/settings/preview", body: `{}`},
		{method: "POST", path: "/api/settings/enable-all"},
	}
	attacks := []struct {
		name   string
		header map[string]string
	}{
		{"no token", map[string]string{"X-CSRF-Token": ""}},
		{"another session's token", map[string]string{"X-CSRF-Token": csrfTokenOf("globex")}},
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"another origin", map[string]string{"Origin": "https://evil.example"}},
	}
	for _, a := range attacks {
		for _, req := range routes {
			req.header = a.header
			p := decodeProblem(t, do(t, h, req), http.StatusForbidden)
			assert.Equalf(t, settingshttp.ProblemForbidden, p.Type, "%s, %s %s: type %q", a.name, req.method, req.path, p.Type)
		}
	}
	assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "nothing saved")

	// The same requests with the token, from the same origin, pass.
	for _, req := range routes {
		req.header = map[string]string{"Sec-Fetch-Site": "same-origin"}
		w := do(t, h, req)
		assert.Equalf(t, http.StatusOK, w.Code, "%s %s with the token = %d; want 200 (%s)", req.method, req.path, w.Code, w.Body)
		if req.method == "PUT" {
			// The PATCH after it then starts from a stale version.
			break
		}
	}

	// GET needs no token.
	w := do(t, h, request{method: "GET", path: "/api/settings", header: map[string]string{"X-CSRF-Token": ""}})
	assert.Equalf(t, http.StatusOK, w.Code, "GET without a token = %d; want 200", w.Code)
}

// TestTenantFromRequestOnly saves as acme with documents naming other
// tenants: the request's tenant is the only one used.
func TestTenantFromRequestOnly(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	for _, req := range []request{
		{method: "PUT", path: "/api/settings", body: `{"tenant": "globex", "categories": {"threat": true}}`, ifMatch: `"0"`},
		{method: "PATCH", path: "/api/settings", body: `{"tenant": "globex", "categories": {"threat": true}}`, ifMatch: `"0"`},
		{method: "POST", path: "/api/settings/preview", body: `{"tenant": "globex"}`},
		{method: "POST", path: "/api/settings/enable-all", body: `{"tenant": "globex"}`},
	} {
		p := decodeProblem(t, do(t, h, req), http.StatusBadRequest)
		require.Lenf(t, p.Errors, 1, "%s %s: errors %+v", req.method, req.path, p.Errors)
		assert.Equalf(t, "#/tenant", p.Errors[0].Pointer, "%s %s: pointer = %q; want #/tenant", req.method, req.path, p.Errors[0].Pointer)
	}
	assert.Equal(t, uint64(0), stored(t, store, "globex").Version, "globex's settings untouched")
	assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "acme's settings untouched")

	// Without a tenant, or with the request's, the document is acme's.
	doc := decodeDocument(t, do(t, h, request{method: "PUT", path: "/api/settings", body: `{"categories": {"threat": true}}`, ifMatch: `"0"`}))
	assert.Equal(t, "acme", doc.Tenant)
	doc = decodeDocument(t, do(t, h, request{method: "PUT", path: "/api/settings", body: `{"tenant": "acme"}`, ifMatch: `"1"`}))
	assert.Equal(t, "acme", doc.Tenant)
	assert.Equal(t, uint64(0), stored(t, store, "globex").Version, "globex's settings untouched")

	// globex's own session sees its own settings, never acme's.
	doc = decodeDocument(t, do(t, h, request{method: "GET", path: "/api/settings", tenant: "globex"}))
	assert.Equal(t, "globex", doc.Tenant)
	assert.Equal(t, uint64(0), doc.Version)
}

func TestPatch(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	w := do(t, h, request{method: "PATCH", path: "/api/settings", body: `{"recipients": ["soc@acme.example"]}`, ifMatch: `"0"`,
		header: map[string]string{"Content-Type": "application/merge-patch+json"}})
	doc := decodeDocument(t, w)
	assert.Equal(t, []string{"soc@acme.example"}, doc.Recipients)
	assert.Equal(t, stored(t, store, "acme").Categories, alerts.DefaultCatalog().Defaults("acme").Document().Categories, "categories unchanged")

	doc = decodeDocument(t, do(t, h, request{method: "PATCH", path: "/api/settings", body: `{"categories": {"threat": true, "system-status": false}}`, ifMatch: `"1"`}))
	assert.Equal(t, uint64(2), doc.Version)
	assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: true, alerts.ActiveThreat: true, alerts.SystemStatus: false, alerts.Configuration: false}, doc.Categories)
	assert.Equal(t, []string{"soc@acme.example"}, doc.Recipients, "recipients unchanged")

	doc = decodeDocument(t, do(t, h, request{method: "PATCH", path: "/api/settings", body: `{"recipients": null}`, ifMatch: `"2"`}))
	assert.Empty(t, doc.Recipients, "null clears the recipients")
}

// change is the JSON form of alerts.Change the API answers.
type change struct {
	Flips []struct {
		Category alerts.CategoryID `json:"category"`
		Name     string            `json:"name"`
		Enabled  bool              `json:"enabled"`
	} `json:"flips"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Summary string   `json:"summary"`
}

func decodeJSON[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	require.Equalf(t, http.StatusOK, w.Code, "status = %d; want 200 (body %s)", w.Code, w.Body)
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), "body %s", w.Body)
	return v
}

func TestPreview(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	c := decodeJSON[change](t, do(t, h, request{method: "POST", path: "/api/settings/preview",
		body: `{"version": 0, "categories": {"threat": true, "active-threat": false}, "recipients": ["soc@acme.example"]}`}))
	require.Len(t, c.Flips, 2)
	assert.Equal(t, alerts.Threat, c.Flips[0].Category)
	assert.Equal(t, "Threat Alerts", c.Flips[0].Name)
	assert.True(t, c.Flips[0].Enabled)
	assert.Equal(t, alerts.ActiveThreat, c.Flips[1].Category)
	assert.False(t, c.Flips[1].Enabled)
	assert.Equal(t, []string{"soc@acme.example"}, c.Added)
	assert.Equal(t, []string{}, c.Removed)
	assert.Equal(t, `turn on "Threat Alerts"; turn off "Active Threat Alerts"; add soc@acme.example`, c.Summary)
	assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "a preview saves nothing")

	// A draft of a version someone else has replaced: the conflict, early.
	do(t, h, request{method: "PUT", path: "/api/settings", body: `{}`, ifMatch: `"0"`})
	p := decodeProblem(t, do(t, h, request{method: "POST", path: "/api/settings/preview", body: `{"version": 0}`}), http.StatusPreconditionFailed)
	require.NotNil(t, p.Current)
	assert.Equal(t, uint64(1), *p.Current)
}

func TestDraftOperations(t *testing.T) {
	t.Parallel()
	h, store := newHandler(t, nil, 0)
	type result struct {
		Draft  alerts.Document `json:"draft"`
		Change change          `json:"change"`
	}
	flipped := func(c change) map[alerts.CategoryID]bool {
		m := map[alerts.CategoryID]bool{}
		for _, f := range c.Flips {
			m[f.Category] = f.Enabled
		}
		return m
	}
	allOn := map[alerts.CategoryID]bool{alerts.Threat: true, alerts.ActiveThreat: true, alerts.SystemStatus: true, alerts.Configuration: true}
	allOff := map[alerts.CategoryID]bool{alerts.Threat: false, alerts.ActiveThreat: false, alerts.SystemStatus: false, alerts.Configuration: false}

	// From the stored settings (an empty body): the defaults.
	r := decodeJSON[result](t, do(t, h, request{method: "POST", path: "/api/settings/enable-all"}))
	assert.Equal(t, allOn, r.Draft.Categories)
	assert.Equal(t, "acme", r.Draft.Tenant)
	assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: true, alerts.Configuration: true}, flipped(r.Change), "Enable all flips the categories that are off")

	// From a draft: what the operation flips in it, not against the store.
	r = decodeJSON[result](t, do(t, h, request{method: "POST", path: "/api/settings/disable-all", body: `{"categories": {"threat": true}}`}))
	assert.Equal(t, allOff, r.Draft.Categories)
	assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: false, alerts.ActiveThreat: false, alerts.SystemStatus: false}, flipped(r.Change))

	r = decodeJSON[result](t, do(t, h, request{method: "POST", path: "/api/settings/reset", body: `{"version": 0, "categories": {"threat": true, "system-status": false}, "recipients": ["soc@acme.example"]}`}))
	assert.Equal(t, alerts.DefaultCatalog().Defaults("acme").Document().Categories, r.Draft.Categories)
	assert.Equal(t, []string{"soc@acme.example"}, r.Draft.Recipients, "Reset leaves the recipients alone")
	assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: false, alerts.SystemStatus: true}, flipped(r.Change))

	assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "draft operations save nothing")
}

// TestPage checks the page's HTML, headers and static files; the browser
// tests drive it.
func TestPage(t *testing.T) {
	t.Parallel()
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{Categories: []alerts.Category{{
		ID: "billing", Name: `Billing <script>alert("x")</script>`, Description: `Invoices & "quotas"`,
	}}})
	require.NoError(t, err)
	h, _ := newHandler(t, catalog, 0)

	w := do(t, h, request{method: "GET", path: "/"})
	require.Equalf(t, http.StatusOK, w.Code, "GET / = %d; want 200", w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		assert.Containsf(t, csp, want, "Content-Security-Policy %q; want %q", csp, want)
	}
	assert.NotContains(t, csp, "unsafe-inline")
	page := w.Body.String()
	for _, want := range []string{
		"Threat Alerts", "Active Threat Alerts", "System Status Alerts", "Configuration Alerts",
		`Billing &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `Invoices &amp; &#34;quotas&#34;`,
		`role="switch"`, `data-category="billing"`, `<meta name="csrf-token" content="token-of-acme">`,
		"Manage Email Settings", "<dialog",
	} {
		assert.Containsf(t, page, want, "the page lacks %q", want)
	}
	assert.NotContains(t, page, "<script>alert", "a category's name is escaped")
	assert.NotContains(t, page, "style=", "no inline style")
	assert.Equal(t, 1, strings.Count(page, "<script"), "one script element, the page's file")

	for name, ctype := range map[string]string{"settings.js": "text/javascript; charset=utf-8", "settings.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"} {
		w := do(t, h, request{method: "GET", path: "/static/" + name})
		assert.Equalf(t, http.StatusOK, w.Code, "GET /static/%s = %d; want 200", name, w.Code)
		assert.Equalf(t, ctype, w.Header().Get("Content-Type"), "GET /static/%s Content-Type", name)
	}
	w = do(t, h, request{method: "GET", path: "/static/nope.js"})
	assert.Equalf(t, http.StatusNotFound, w.Code, "GET /static/nope.js = %d; want 404", w.Code)

	p := decodeProblem(t, do(t, h, request{method: "GET", path: "/", tenant: "-"}), http.StatusForbidden)
	assert.Equal(t, settingshttp.ProblemForbidden, p.Type)
}
