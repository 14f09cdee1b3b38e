package alerts

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// CategoryID is the stable identifier of an alert category, such as
// "active-threat". It is what settings documents and stores persist.
//
// A valid id is 1 to 64 characters of lower-case ASCII letters, digits and
// single hyphens, starting with a letter and not ending with a hyphen.
type CategoryID string

// The built-in categories.
const (
	// Threat covers potential or identified threats.
	Threat CategoryID = "threat"
	// ActiveThreat covers high-risk threats whose score is at or over the
	// threshold.
	ActiveThreat CategoryID = "active-threat"
	// SystemStatus covers the health, performance and uptime of the platform.
	SystemStatus CategoryID = "system-status"
	// Configuration covers configuration changes and inconsistencies.
	Configuration CategoryID = "configuration"
)

// maxCategoryIDLen bounds a category id, so that ids stay usable as keys in
// stores and URLs.
const maxCategoryIDLen = 64

// Errors about categories. A [CategoryError] wraps one of them.
var (
	// ErrInvalidCategory means a category id or its definition is malformed.
	ErrInvalidCategory = errors.New("alerts: invalid category")
	// ErrDuplicateCategory means a category id is registered twice.
	ErrDuplicateCategory = errors.New("alerts: duplicate category")
	// ErrUnknownCategory means a category id is not in the catalog.
	ErrUnknownCategory = errors.New("alerts: unknown category")
)

// A CategoryError reports a problem with one category: Err is
// [ErrInvalidCategory], [ErrDuplicateCategory] or [ErrUnknownCategory].
type CategoryError struct {
	ID     CategoryID // the offending id, as given
	Reason string     // what is wrong, for people; may be empty
	Err    error      // the sentinel
}

// Error describes the problem, naming the input.
func (e *CategoryError) Error() string {
	var what string
	switch e.Err {
	case ErrDuplicateCategory:
		what = "duplicate category"
	case ErrUnknownCategory:
		what = "unknown category"
	default:
		what = "invalid category"
	}
	if e.Reason == "" {
		return fmt.Sprintf("alerts: %s %q", what, e.ID)
	}
	return fmt.Sprintf("alerts: %s %q: %s", what, e.ID, e.Reason)
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *CategoryError) Unwrap() error { return e.Err }

// Validate reports whether id is well formed (see [CategoryID]). The error
// is a *[CategoryError] wrapping [ErrInvalidCategory].
func (id CategoryID) Validate() error {
	if reason := idProblem(string(id)); reason != "" {
		return &CategoryError{ID: id, Reason: reason, Err: ErrInvalidCategory}
	}
	return nil
}

func idProblem(s string) string {
	switch {
	case s == "":
		return "empty id"
	case len(s) > maxCategoryIDLen:
		return fmt.Sprintf("longer than %d characters", maxCategoryIDLen)
	case s[0] < 'a' || s[0] > 'z':
		return "must start with a lower-case letter"
	case s[len(s)-1] == '-':
		return "must not end with a hyphen"
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-':
			if s[i-1] == '-' {
				return "must not hold two hyphens in a row"
			}
		default:
			return fmt.Sprintf("character %q at %d: only a-z, 0-9 and '-' are allowed", r, i)
		}
	}
	return ""
}

// A Category is a kind of alert a tenant can turn on or off: one of the
// built-in four or one a service registers in its [Catalog]. It is a plain
// value; [NewCatalog] checks it (the zero value has no id and is rejected).
type Category struct {
	// ID is the stable identifier, persisted in settings.
	ID CategoryID
	// Name is the display name shown on the settings screen.
	Name string
	// Description says what the category covers, for people.
	Description string
	// DefaultEnabled is the state of the category for a tenant that never
	// saved settings, and the state Reset returns it to.
	DefaultEnabled bool
}

func (c Category) validate() error {
	if err := c.ID.Validate(); err != nil {
		return err
	}
	if reason := textProblem(c.Name, true); reason != "" {
		return &CategoryError{ID: c.ID, Reason: "name " + reason, Err: ErrInvalidCategory}
	}
	if reason := textProblem(c.Description, false); reason != "" {
		return &CategoryError{ID: c.ID, Reason: "description " + reason, Err: ErrInvalidCategory}
	}
	return nil
}

// textProblem checks a display text: valid UTF-8, no control characters (so
// that a name can go into a subject line), non-empty when required.
func textProblem(s string, required bool) string {
	if required && s == "" {
		return "is empty"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Sprintf("holds control character %U", r)
		}
	}
	return ""
}

// BuiltinCategories returns the four built-in categories, in the order the
// settings screen lists them. Active Threat and System Status alerts are on
// by default: they are rare and urgent. Threat and Configuration alerts can
// be frequent, so a tenant opts in.
//
// Each call returns a new slice; callers may modify it.
func BuiltinCategories() []Category {
	return []Category{
		{
			ID:          Threat,
			Name:        "Threat Alerts",
			Description: "Potential or identified threats.",
		},
		{
			ID:             ActiveThreat,
			Name:           "Active Threat Alerts",
			Description:    "High-risk threats whose score is at or over the threshold.",
			DefaultEnabled: true,
		},
		{
			ID:             SystemStatus,
			Name:           "System Status Alerts",
			Description:    "Health and performance of the platform, and its uptime.",
			DefaultEnabled: true,
		},
		{
			ID:          Configuration,
			Name:        "Configuration Alerts",
			Description: "Configuration changes and inconsistencies.",
		},
	}
}

// DefaultMaxRecipients is the maximum number of recipients a tenant may
// have when [CatalogConfig.MaxRecipients] is zero.
const DefaultMaxRecipients = 25

// CatalogConfig configures [NewCatalog]. Its zero value gives the built-in
// categories and the default recipient limit.
type CatalogConfig struct {
	// Categories are the service's own categories, registered beside the
	// built-in ones and listed after them in this order. Each needs a valid,
	// new id and a name; with the built-in ones there may be at most
	// [MaxDocumentEntries]. Default: none.
	Categories []Category
	// MaxRecipients is the maximum number of recipients per tenant. Zero
	// means DefaultMaxRecipients; a negative value, or one over
	// [MaxDocumentEntries], is an error (so that the settings document of
	// every tenant stays within the limits on documents).
	MaxRecipients int
}

// A Catalog is the set of alert categories a service offers (the built-in
// four and its own) and the rules its settings follow (the recipient
// limit). It is the schema of [Settings]: every Settings, [Draft] and
// settings document refers to one.
//
// A Catalog is immutable once built, so it is safe for concurrent use and
// a saved [Settings] never sees its categories change underneath it. A
// service builds one at start-up with [NewCatalog]; the zero value is not
// usable.
type Catalog struct {
	cats          []Category
	index         map[CategoryID]int
	maxRecipients int
	defaults      []bool
}

// NewCatalog returns a catalog of the built-in categories plus
// cfg.Categories. A malformed id, an empty name, a control character in a
// name or description, or an id registered twice is an error wrapping
// [ErrInvalidCategory] or [ErrDuplicateCategory] that names the id.
func NewCatalog(cfg CatalogConfig) (*Catalog, error) {
	if cfg.MaxRecipients < 0 {
		return nil, fmt.Errorf("alerts: CatalogConfig.MaxRecipients is %d; want 0 (default %d) or more", cfg.MaxRecipients, DefaultMaxRecipients)
	}
	if cfg.MaxRecipients > MaxDocumentEntries {
		return nil, fmt.Errorf("alerts: CatalogConfig.MaxRecipients is %d; want at most MaxDocumentEntries (%d)", cfg.MaxRecipients, MaxDocumentEntries)
	}
	builtin := BuiltinCategories()
	if n := len(builtin) + len(cfg.Categories); n > MaxDocumentEntries {
		return nil, fmt.Errorf("alerts: CatalogConfig.Categories holds %d categories; with the %d built-in ones, want at most MaxDocumentEntries (%d)",
			len(cfg.Categories), len(builtin), MaxDocumentEntries)
	}
	c := &Catalog{
		cats:          make([]Category, 0, len(builtin)+len(cfg.Categories)),
		index:         make(map[CategoryID]int, len(builtin)+len(cfg.Categories)),
		maxRecipients: cfg.MaxRecipients,
	}
	if c.maxRecipients == 0 {
		c.maxRecipients = DefaultMaxRecipients
	}
	for _, cat := range append(builtin, cfg.Categories...) {
		if err := cat.validate(); err != nil {
			return nil, err
		}
		if _, dup := c.index[cat.ID]; dup {
			return nil, &CategoryError{ID: cat.ID, Reason: "registered twice", Err: ErrDuplicateCategory}
		}
		c.add(cat)
	}
	return c, nil
}

// add appends cat, which is valid and new, to c.
func (c *Catalog) add(cat Category) {
	c.index[cat.ID] = len(c.cats)
	c.cats = append(c.cats, cat)
	c.defaults = append(c.defaults, cat.DefaultEnabled)
}

// DefaultCatalog returns a catalog of the built-in categories only, with the
// default recipient limit. Each call returns a new Catalog.
func DefaultCatalog() *Catalog {
	builtin := BuiltinCategories()
	c := &Catalog{
		index:         make(map[CategoryID]int, len(builtin)),
		maxRecipients: DefaultMaxRecipients,
	}
	// The built-in categories are valid and distinct (a test checks it), so
	// no validation is needed here.
	for _, cat := range builtin {
		c.add(cat)
	}
	return c
}

// Categories returns the categories in display order: the built-in ones,
// then the registered ones in registration order. The slice is a copy.
func (c *Catalog) Categories() []Category {
	return append([]Category(nil), c.cats...)
}

// Len returns the number of categories.
func (c *Catalog) Len() int { return len(c.cats) }

// Lookup returns the category with the given id and whether it exists.
func (c *Catalog) Lookup(id CategoryID) (Category, bool) {
	i, ok := c.index[id]
	if !ok {
		return Category{}, false
	}
	return c.cats[i], true
}

// MaxRecipients returns the maximum number of recipients per tenant.
func (c *Catalog) MaxRecipients() int { return c.maxRecipients }

// position returns the index of id, or a *CategoryError wrapping
// ErrUnknownCategory.
func (c *Catalog) position(id CategoryID) (int, error) {
	i, ok := c.index[id]
	if !ok {
		return 0, &CategoryError{ID: id, Reason: "not in the catalog", Err: ErrUnknownCategory}
	}
	return i, nil
}
