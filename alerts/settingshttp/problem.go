package settingshttp

import (
	"encoding/json"
	"net/http"

	"github.com/alertmail/alertmail/alerts"
)

// The problem types: the "type" member of the problem details (RFC 9457)
// the handler answers errors with. Each is the address of its own
// documentation, here.
const (
	// ProblemInvalid: the request is malformed; "errors" points at the bad
	// fields (400 Bad Request).
	ProblemInvalid = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemInvalid"
	// ProblemConflict: the settings changed since the version the edit
	// started from; "baseVersion" and "currentVersion" name both (412
	// Precondition Failed).
	ProblemConflict = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemConflict"
	// ProblemVersionRequired: a PUT or PATCH without If-Match (428
	// Precondition Required).
	ProblemVersionRequired = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemVersionRequired"
	// ProblemTooLarge: the body is over the limit (413 Content Too Large).
	ProblemTooLarge = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemTooLarge"
	// ProblemUnsupportedMediaType: the body is not JSON (415).
	ProblemUnsupportedMediaType = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemUnsupportedMediaType"
	// ProblemForbidden: no tenant for the request, a cross-origin request,
	// or a missing anti-CSRF token (403).
	ProblemForbidden = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemForbidden"
	// ProblemNotFound: no such draft operation (404).
	ProblemNotFound = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemNotFound"
	// ProblemServer: the store failed; the server's log says why (500).
	ProblemServer = "https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemServer"
)

// problem is the problem details object of RFC 9457, with the members this
// handler adds: the bad fields, and the two versions of a conflict.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Errors are the bad fields, as in RFC 9457's own example.
	Errors []fieldError `json:"errors,omitempty"`
	// Base and Current are, for a conflict, the version the edit started
	// from and the version stored.
	Base    *uint64 `json:"baseVersion,omitempty"`
	Current *uint64 `json:"currentVersion,omitempty"`
}

// fieldError names one bad field: a JSON Pointer (RFC 6901) into the body,
// as a URI fragment, or a header.
type fieldError struct {
	Pointer string `json:"pointer,omitempty"`
	Header  string `json:"header,omitempty"`
	Detail  string `json:"detail"`
}

// writeProblem answers p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSONAs(w, "application/problem+json", p.Status, p)
}

// writeJSON answers v as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, "application/json", status, v)
}

func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only the handler's own types come here, and they marshal.
		http.Error(w, "settingshttp: encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// change is the JSON form of an [alerts.Change].
type change struct {
	Flips   []flip   `json:"flips"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Summary string   `json:"summary"`
}

// flip is the JSON form of an [alerts.Flip].
type flip struct {
	Category alerts.CategoryID `json:"category"`
	Name     string            `json:"name"`
	Enabled  bool              `json:"enabled"`
}

// changeOf converts c, with empty lists rather than null.
func changeOf(c alerts.Change) change {
	out := change{
		Flips:   make([]flip, 0, len(c.Flips)),
		Added:   append([]string{}, c.Added...),
		Removed: append([]string{}, c.Removed...),
		Summary: c.String(),
	}
	for _, f := range c.Flips {
		out.Flips = append(out.Flips, flip{Category: f.Category.ID, Name: f.Category.Name, Enabled: f.Enabled})
	}
	return out
}

// draftResult is the answer of a draft operation: the draft after it, and
// what it flipped.
type draftResult struct {
	Draft  alerts.Document `json:"draft"`
	Change change          `json:"change"`
}
