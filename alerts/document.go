package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrInvalidDocument means a settings document is malformed: not JSON, an
// unknown or repeated field, trailing data, or beyond the limits on
// documents (a *[DocumentLimitError]). Unknown categories and bad
// recipients have their own errors ([ErrUnknownCategory],
// [ErrInvalidRecipient], [ErrTooManyRecipients]).
var ErrInvalidDocument = errors.New("alerts: invalid settings document")

// A Document is the serialised form of [Settings]: what a host's HTTP API
// sends and receives, and what a store that is not in memory persists. In
// JSON:
//
//	{
//	  "tenant": "acme",
//	  "version": 3,
//	  "categories": {"active-threat": true, "configuration": false, "system-status": true, "threat": true},
//	  "recipients": ["soc@acme.example"]
//	}
//
// The zero Document is valid: it stands for the defaults with no tenant and
// no recipients. Version is the version of the settings the document was
// made from. A
// client edits a document it got and sends it back unchanged in that
// field, so that [SettingsStore.Save] can detect a concurrent save.
type Document struct {
	// Tenant is the tenant the settings belong to: empty, or an id
	// [ValidateTenant] accepts.
	Tenant string `json:"tenant"`
	// Version is the version of the settings the document was made from
	// (see [Settings.Version]).
	Version uint64 `json:"version"`
	// Categories maps category ids to their state. A category of the
	// catalog that is missing is in its default state; an id the catalog
	// does not know is an error.
	Categories map[CategoryID]bool `json:"categories"`
	// Recipients are validated by [ParseRecipients] under the catalog's
	// maximum.
	Recipients []string `json:"recipients"`
}

// Document returns the settings as a document, with every category of the
// catalog listed. The document shares nothing with s.
func (s *Settings) Document() Document {
	doc := Document{
		Tenant:     s.Tenant,
		Version:    s.Version,
		Categories: make(map[CategoryID]bool, len(s.on)),
		Recipients: append([]string{}, s.recipients...),
	}
	for i, on := range s.on {
		doc.Categories[s.catalog.cats[i].ID] = on
	}
	return doc
}

// MarshalJSON encodes the settings as their [Document].
func (s *Settings) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.Document())
}

// NewSettings builds settings from a document, for a host applying what a
// client sent or a store whose backend is not JSON. Categories missing
// from the document take their default state; a tenant id that
// [ValidateTenant] refuses is its *[TenantError] (an empty one is allowed:
// the settings then have no tenant, and a store refuses to save them); an
// unknown category is an error wrapping [ErrUnknownCategory]; recipients
// are validated and
// normalised by [ParseRecipients] under the catalog's maximum, and a bad
// entry is a *[RecipientError].
func (c *Catalog) NewSettings(doc Document) (*Settings, error) {
	return c.build(doc, false)
}

// build makes settings from doc. When restoring, categories the catalog no
// longer has are dropped and the recipient maximum is not applied.
func (c *Catalog) build(doc Document, restoring bool) (*Settings, error) {
	if doc.Tenant != "" {
		if err := ValidateTenant(doc.Tenant); err != nil {
			return nil, err
		}
	}
	// Report unknown ids in a stable order.
	ids := make([]CategoryID, 0, len(doc.Categories))
	for id := range doc.Categories {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	on := append([]bool(nil), c.defaults...)
	for _, id := range ids {
		i, err := c.position(id)
		if err != nil {
			if restoring {
				continue
			}
			return nil, err
		}
		on[i] = doc.Categories[id]
	}
	max := c.maxRecipients
	if restoring {
		max = len(doc.Recipients) + 1
	}
	rs, err := ParseRecipients(doc.Recipients, max)
	if err != nil {
		return nil, err
	}
	return &Settings{Tenant: doc.Tenant, Version: doc.Version, catalog: c, on: on, recipients: rs}, nil
}

// ParseSettings decodes a JSON settings [Document] strictly and builds
// settings from it with [Catalog.NewSettings]. Field names must match
// exactly (case included) and appear once; unknown fields, trailing data
// and unknown category ids are errors, not ignored. Malformed JSON is an
// error wrapping [ErrInvalidDocument]; so is a document that breaks the
// limits on documents ([MaxDocumentSize], [MaxDocumentDepth],
// [MaxDocumentEntries]), which is found before anything is decoded, and is
// a *[DocumentLimitError]. This is the parser for input from
// clients; a store reading back what it persisted uses
// [Catalog.RestoreSettings].
func (c *Catalog) ParseSettings(data []byte) (*Settings, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	return c.build(doc, false)
}

// RestoreSettings is [Catalog.ParseSettings] for a document a store
// persisted earlier, under a catalog that may have changed since. Where
// ParseSettings rejects input from a client, RestoreSettings accepts what
// was valid when it was saved, so that a deployment that removes a
// category or lowers the recipient maximum does not make stored settings
// unreadable (and stop every alert of the tenants concerned): categories
// the catalog no longer has are dropped, and a recipient list longer than
// the current maximum is kept. Everything else is checked as strictly:
// the JSON and the limits on documents (which every document a catalog
// produces fits), and every address, so that tampered storage cannot
// inject headers or exhaust the process; and so is the tenant id.
func (c *Catalog) RestoreSettings(data []byte) (*Settings, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	return c.build(doc, true)
}

// Limits on the settings documents [Catalog.ParseSettings] and
// [Catalog.RestoreSettings] read. A document is checked against them
// before it is decoded, so that a hostile one costs no more than its own
// bytes: a document breaking one is a *[DocumentLimitError]. Every
// document a [Catalog] can produce fits them, with room to spare
// ([NewCatalog] bounds the categories and MaxRecipients by
// MaxDocumentEntries for that).
const (
	// MaxDocumentSize is the size of the largest document, in bytes. The
	// largest a catalog can produce is about 670 KB: MaxDocumentEntries
	// recipients of 254 bytes whose 64-byte local parts JSON escapes
	// sixfold ("&" is written "\u0026"), as many categories with 64-byte
	// ids, and a tenant id.
	MaxDocumentSize = 1 << 20
	// MaxDocumentDepth is how deeply objects and arrays may nest: the
	// document object, then the categories object and the recipients
	// array in it. Nothing deeper is valid, so it is refused at once.
	MaxDocumentDepth = 2
	// MaxDocumentEntries is the most members an object, or elements an
	// array, of a document may hold.
	MaxDocumentEntries = 1024
)

// A DocumentLimitError reports a settings document that breaks one of the
// limits on documents ([MaxDocumentSize], [MaxDocumentDepth],
// [MaxDocumentEntries]); it wraps [ErrInvalidDocument]. A host's HTTP API
// may answer it with 413 Content Too Large.
type DocumentLimitError struct {
	// Limit is the name of the limit: "MaxDocumentSize",
	// "MaxDocumentDepth" or "MaxDocumentEntries".
	Limit string
	// Max is the value of the limit.
	Max int
	// Offset is the byte offset in the document at which the limit was
	// passed (for MaxDocumentSize, the document's size).
	Offset int64
}

// Error names the limit and where the document broke it.
func (e *DocumentLimitError) Error() string {
	if e.Limit == "MaxDocumentSize" {
		return fmt.Sprintf("alerts: invalid settings document: %d bytes, more than %s (%d)", e.Offset, e.Limit, e.Max)
	}
	what := "nested deeper than"
	if e.Limit == "MaxDocumentEntries" {
		what = "an object or array with more entries than"
	}
	return fmt.Sprintf("alerts: invalid settings document: %s %s (%d) at byte %d", what, e.Limit, e.Max, e.Offset)
}

// Unwrap returns [ErrInvalidDocument].
func (e *DocumentLimitError) Unwrap() error { return ErrInvalidDocument }

// decodeDocument decodes a JSON document strictly, once checkDocument
// has found it within the limits.
func decodeDocument(data []byte) (Document, error) {
	var doc Document
	if err := checkDocument(data); err != nil {
		return doc, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	return doc, nil
}

// isDocumentField reports whether key is the exact JSON name of a field of
// Document.
func isDocumentField(key string) bool {
	switch key {
	case "tenant", "version", "categories", "recipients":
		return true
	}
	return false
}

// checkDocument reads the JSON value in data token by token, without
// recursion, and rejects what breaks the limits on documents, and what
// encoding/json would let through silently: a top-level field whose name
// matches a Document field only case-insensitively, a key repeated within
// one object, and anything after the value. It stops at the first
// problem, so its cost is bounded by the limits, not by the input.
func checkDocument(data []byte) error {
	if len(data) > MaxDocumentSize {
		return &DocumentLimitError{Limit: "MaxDocumentSize", Max: MaxDocumentSize, Offset: int64(len(data))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: want a JSON object", ErrInvalidDocument)
	}
	// The open objects and arrays, outermost first: for an object the keys
	// seen in it, for an array nil; and how many entries each has.
	type open struct {
		keys    map[string]bool
		entries int
	}
	var stackBuf [MaxDocumentDepth]open
	stack := append(stackBuf[:0], open{keys: make(map[string]bool)})
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if !dec.More() {
			if _, err := dec.Token(); err != nil { // the closing '}' or ']'
				return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if top.entries++; top.entries > MaxDocumentEntries {
			return &DocumentLimitError{Limit: "MaxDocumentEntries", Max: MaxDocumentEntries, Offset: dec.InputOffset()}
		}
		if top.keys != nil {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
			}
			key, _ := tok.(string)
			if top.keys[key] {
				return fmt.Errorf("%w: field %q appears twice", ErrInvalidDocument, key)
			}
			top.keys[key] = true
			if len(stack) == 1 && !isDocumentField(key) {
				return fmt.Errorf("%w: unknown field %q", ErrInvalidDocument, key)
			}
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if len(stack) == MaxDocumentDepth {
				return &DocumentLimitError{Limit: "MaxDocumentDepth", Max: MaxDocumentDepth, Offset: dec.InputOffset() - 1}
			}
			var keys map[string]bool
			if d == '{' {
				keys = make(map[string]bool)
			}
			stack = append(stack, open{keys: keys})
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the document", ErrInvalidDocument)
	}
	return nil
}
