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
// unknown or repeated field, or trailing data. Unknown categories and bad
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
	// Tenant is the tenant the settings belong to.
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
// from the document take their default state; an unknown category is an
// error wrapping [ErrUnknownCategory]; recipients are validated and
// normalised by [ParseRecipients] under the catalog's maximum, and a bad
// entry is a *[RecipientError].
func (c *Catalog) NewSettings(doc Document) (*Settings, error) {
	return c.build(doc, false)
}

// build makes settings from doc. When restoring, categories the catalog no
// longer has are dropped and the recipient maximum is not applied.
func (c *Catalog) build(doc Document, restoring bool) (*Settings, error) {
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
// error wrapping [ErrInvalidDocument]. This is the parser for input from
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
// the JSON, and every address, so that tampered storage cannot inject
// headers.
func (c *Catalog) RestoreSettings(data []byte) (*Settings, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	return c.build(doc, true)
}

// decodeDocument decodes a JSON document strictly.
func decodeDocument(data []byte) (Document, error) {
	var doc Document
	if err := checkObjectKeys(data); err != nil {
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

// checkObjectKeys walks the JSON value in data and rejects what
// encoding/json would let through silently: a top-level field whose name
// matches a Document field only case-insensitively, a key repeated within
// one object, and anything after the value.
func checkObjectKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: want a JSON object", ErrInvalidDocument)
	}
	if err := walkObject(dec, true); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the document", ErrInvalidDocument)
	}
	return nil
}

// walkObject reads the rest of an object whose '{' was read.
func walkObject(dec *json.Decoder, top bool) error {
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("%w: field %q appears twice", ErrInvalidDocument, key)
		}
		seen[key] = true
		if top && !isDocumentField(key) {
			return fmt.Errorf("%w: unknown field %q", ErrInvalidDocument, key)
		}
		if err := walkValue(dec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	return nil
}

// walkValue reads one value, descending into objects and arrays.
func walkValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, false)
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
	}
	return nil
}
