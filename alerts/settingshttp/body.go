package settingshttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/alertmail/alertmail/alerts"
)

// readBody reads the request's body, up to the handler's limit, and
// checks that a body that is not empty has one of the media types. It
// answers 413 or 415 and returns false when not.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, mediaTypes ...string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		writeProblem(w, &problem{Type: ProblemTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The body is larger than %d bytes.", mbe.Limit)})
		return nil, false
	}
	if err != nil {
		writeProblem(w, &problem{Type: ProblemInvalid, Status: http.StatusBadRequest, Detail: "The body could not be read."})
		return nil, false
	}
	if len(body) == 0 {
		return body, true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(mediaTypes, mt) {
		writeProblem(w, &problem{
			Type: ProblemUnsupportedMediaType, Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("The body is %q; want %s.", r.Header.Get("Content-Type"), strings.Join(mediaTypes, " or ")),
			Errors: []fieldError{{Header: "Content-Type", Detail: "want " + strings.Join(mediaTypes, " or ")}},
		})
		return nil, false
	}
	return body, true
}

// draftDocument decodes a settings document from a client, strictly, as
// a document of tenant under catalog. A document naming another tenant is
// refused: the tenant is the request's.
func draftDocument(catalog *alerts.Catalog, tenant string, body []byte) (alerts.Document, *problem) {
	set, err := catalog.ParseSettings(body)
	if err != nil {
		return alerts.Document{}, documentProblem(err, body)
	}
	if set.Tenant != "" && set.Tenant != tenant {
		return alerts.Document{}, &problem{
			Type: ProblemInvalid, Status: http.StatusBadRequest,
			Detail: "The document names another tenant than the one signed in.",
			Errors: []fieldError{{Pointer: "#/tenant", Detail: "want the tenant of this request, or leave it out"}},
		}
	}
	doc := set.Document()
	doc.Tenant = tenant
	return doc, nil
}

// build returns the settings of doc under catalog.
func build(catalog *alerts.Catalog, doc alerts.Document) (*alerts.Settings, *problem) {
	set, err := catalog.NewSettings(doc)
	if err != nil {
		return nil, documentProblem(err, nil)
	}
	return set, nil
}

// patchSettings applies a PATCH body to cur, the settings of tenant: the
// categories it names take its states, and its recipients, when present,
// replace cur's.
func patchSettings(tenant string, cur *alerts.Settings, body []byte) (*alerts.Settings, *problem) {
	catalog := catalogOf(cur)
	// The patch is a partial document: the strict parser checks it whole
	// (fields, categories, recipients, limits) before anything is applied.
	set, err := catalog.ParseSettings(body)
	if err != nil {
		return nil, documentProblem(err, body)
	}
	if set.Tenant != "" && set.Tenant != tenant {
		return nil, &problem{
			Type: ProblemInvalid, Status: http.StatusBadRequest,
			Detail: "The patch names another tenant than the one signed in.",
			Errors: []fieldError{{Pointer: "#/tenant", Detail: "want the tenant of this request, or leave it out"}},
		}
	}
	if set.Version != 0 && set.Version != cur.Version {
		return nil, &problem{
			Type: ProblemInvalid, Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("The patch's version %d is not the version %d If-Match names.", set.Version, cur.Version),
			Errors: []fieldError{{Pointer: "#/version", Detail: fmt.Sprintf("want %d, as in If-Match, or leave it out", cur.Version)}},
		}
	}
	var present struct {
		Categories map[alerts.CategoryID]json.RawMessage `json:"categories"`
		Recipients json.RawMessage                       `json:"recipients"`
	}
	if err := json.Unmarshal(body, &present); err != nil { // ParseSettings took it
		return nil, documentProblem(fmt.Errorf("%w: %v", alerts.ErrInvalidDocument, err), body)
	}
	doc := cur.Document()
	for id := range present.Categories {
		doc.Categories[id] = set.Enabled(id)
	}
	if present.Recipients != nil {
		// Parsed and normalised as they were given; "null" clears them.
		doc.Recipients = set.Recipients()
	}
	return build(catalog, doc)
}

// documentProblem turns the error of decoding or building settings into
// the problem to answer: 400 pointing at the bad field, 413 for a document
// over the limits, 500 for anything else. body, when not nil, is the
// document, read again to point at the field the error is about.
func documentProblem(err error, body []byte) *problem {
	var (
		limit *alerts.DocumentLimitError
		te    *alerts.TenantError
		ce    *alerts.CategoryError
		re    *alerts.RecipientError
	)
	invalid := func(detail string, fe ...fieldError) *problem {
		return &problem{Type: ProblemInvalid, Status: http.StatusBadRequest, Detail: detail, Errors: fe}
	}
	switch {
	case errors.As(err, &limit) && limit.Limit != "MaxDocumentDepth":
		return &problem{Type: ProblemTooLarge, Status: http.StatusRequestEntityTooLarge, Detail: sdkDetail(err)}
	case errors.As(err, &te):
		return invalid(sdkDetail(err), fieldError{Pointer: "#/tenant", Detail: te.Reason})
	case errors.As(err, &ce):
		return invalid(sdkDetail(err), fieldError{Pointer: "#/categories/" + pointerToken(string(ce.ID)), Detail: "unknown category"})
	case errors.As(err, &re):
		pointer := "#/recipients"
		if re.Index >= 0 {
			pointer += "/" + strconv.Itoa(re.Index)
		}
		return invalid(sdkDetail(err), fieldError{Pointer: pointer, Detail: re.Reason})
	case errors.Is(err, alerts.ErrInvalidDocument):
		p := invalid(sdkDetail(err))
		if fe, ok := badField(body); ok {
			p.Errors = []fieldError{fe}
		}
		return p
	}
	return &problem{Type: ProblemServer, Status: http.StatusInternalServerError, Detail: "The settings could not be read or saved; try again."}
}

// sdkDetail is the SDK's error message, for people, without its package
// prefix.
func sdkDetail(err error) string {
	s := strings.TrimPrefix(err.Error(), "alerts: ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// badField reads a document the SDK refused as malformed, to name the
// field at fault: one that does not exist, or one of the wrong type. It
// returns false when it finds none (the JSON itself is broken, or a field
// is repeated: the SDK's message says so).
func badField(body []byte) (fieldError, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return fieldError{}, false
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, at := top[k], "#/"+pointerToken(k)
		switch k {
		case "tenant":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return fieldError{Pointer: at, Detail: "want a string"}, true
			}
		case "version":
			var n uint64
			if json.Unmarshal(v, &n) != nil {
				return fieldError{Pointer: at, Detail: "want a whole number, 0 or more"}, true
			}
		case "categories":
			var cats map[string]json.RawMessage
			if json.Unmarshal(v, &cats) != nil {
				return fieldError{Pointer: at, Detail: `want an object of category ids and states, such as {"threat": true}`}, true
			}
			ids := make([]string, 0, len(cats))
			for id := range cats {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				var on bool
				if json.Unmarshal(cats[id], &on) != nil {
					return fieldError{Pointer: at + "/" + pointerToken(id), Detail: "want true or false"}, true
				}
			}
		case "recipients":
			var list []json.RawMessage
			if json.Unmarshal(v, &list) != nil {
				return fieldError{Pointer: at, Detail: "want an array of addresses"}, true
			}
			for i, e := range list {
				var s string
				if json.Unmarshal(e, &s) != nil {
					return fieldError{Pointer: at + "/" + strconv.Itoa(i), Detail: "want an address, as a string"}, true
				}
			}
		default:
			return fieldError{Pointer: at, Detail: "unknown field; want tenant, version, categories or recipients"}, true
		}
	}
	return fieldError{}, false
}

// pointerToken escapes s as a JSON Pointer reference token (RFC 6901).
func pointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
