package alerts

// Settings is one tenant's saved alert settings: which categories are on and
// who receives the emails. A Settings is an immutable snapshot; to change
// settings, [Settings.Edit] a draft and save it with a [SettingsStore].
//
// Settings come from a [SettingsStore], from [Catalog.Defaults], or from a
// settings document ([Catalog.NewSettings], [Catalog.ParseSettings],
// [Catalog.RestoreSettings]).
// Stores share one snapshot between all their callers, so callers must not
// modify Tenant, Version or the slice [Settings.Recipients] returns. The
// methods are safe for concurrent use. The zero value has no categories
// and no recipients: every category is off.
type Settings struct {
	// Tenant is the tenant (subscription) the settings belong to, an id
	// [ValidateTenant] accepts; stores refuse to save settings with any
	// other, the empty one included.
	Tenant string
	// Version counts the saves of these settings: 0 means never saved (the
	// catalog's defaults), and each successful save adds one. In settings
	// built from a [Draft] it is the version the draft started from, which
	// is what [SettingsStore.Save] compares against.
	Version uint64

	catalog    *Catalog
	on         []bool // indexed like catalog.cats
	recipients []string
}

// Enabled reports whether alerts of category id are on. This is the check
// the sending path makes before every alert: once a disable is saved, a
// store's next Load returns settings where Enabled is false, and nothing
// more is sent for the category, including alerts already queued (a save
// made through [Dispatcher.Save] also drops them at once, so that they stay
// unsent if the category is turned on again). An id that is not in the
// catalog is off.
//
// Enabled does not allocate.
func (s *Settings) Enabled(id CategoryID) bool {
	if s.catalog == nil {
		return false
	}
	i, ok := s.catalog.index[id]
	return ok && s.on[i]
}

// Recipients returns the validated, normalised addresses that receive the
// tenant's alert emails, in the order they were given; it may be empty.
//
// It returns the snapshot's own slice, without copying, because it sits on
// the sending path: callers must not modify its elements. (Appending to it
// is safe: its capacity is its length, so append copies.)
func (s *Settings) Recipients() []string {
	return s.recipients[:len(s.recipients):len(s.recipients)]
}

// Catalog returns the catalog the settings follow; nil for the zero value.
func (s *Settings) Catalog() *Catalog { return s.catalog }

// EnabledCategories returns the ids of the categories that are on, in
// catalog order. The slice is new.
func (s *Settings) EnabledCategories() []CategoryID {
	var ids []CategoryID
	for i, on := range s.on {
		if on {
			ids = append(ids, s.catalog.cats[i].ID)
		}
	}
	return ids
}

// Edit returns a new draft that starts from s. Nothing a draft does changes
// s; save the draft's result with a [SettingsStore].
func (s *Settings) Edit() *Draft {
	c := s.catalog
	if c == nil {
		// The zero Settings follows the built-in catalog with every
		// category off.
		c = DefaultCatalog()
	}
	d := &Draft{
		base:       s,
		catalog:    c,
		on:         make([]bool, len(c.cats)),
		recipients: s.recipients,
	}
	copy(d.on, s.on)
	return d
}

// Defaults returns the settings of a tenant that never saved any: every
// category in its default state, no recipients, Version 0. Stores return
// this from Load for an unknown tenant.
func (c *Catalog) Defaults(tenant string) *Settings {
	return &Settings{Tenant: tenant, catalog: c, on: c.defaults}
}
