package alerts

import (
	"fmt"
	"strings"
)

// A Draft is a tenant's settings being edited, as on the settings screen:
// toggles, Enable all, Disable all, Reset and the recipient list. Nothing a
// draft does takes effect until its [Draft.Settings] are saved with
// [SettingsStore.Save], and [Draft.Change] describes what a save would
// change, so that a UI can ask for confirmation first.
//
// Get a Draft from [Settings.Edit]; the zero value is not usable. A Draft
// is a plain value owned by one editor: it is not safe for concurrent use.
type Draft struct {
	base       *Settings
	catalog    *Catalog
	on         []bool
	recipients []string // validated; replaced, never modified in place
}

// Base returns the settings the draft started from.
func (d *Draft) Base() *Settings { return d.base }

// Enabled reports whether category id is on in the draft.
func (d *Draft) Enabled(id CategoryID) bool {
	i, ok := d.catalog.index[id]
	return ok && d.on[i]
}

// Set turns category id on or off. An id that is not in the catalog is an
// error wrapping [ErrUnknownCategory], and changes nothing.
func (d *Draft) Set(id CategoryID, on bool) error {
	i, err := d.catalog.position(id)
	if err != nil {
		return err
	}
	d.on[i] = on
	return nil
}

// Toggle flips category id: on becomes off and off becomes on. An id that is
// not in the catalog is an error wrapping [ErrUnknownCategory], and changes
// nothing.
func (d *Draft) Toggle(id CategoryID) error {
	i, err := d.catalog.position(id)
	if err != nil {
		return err
	}
	d.on[i] = !d.on[i]
	return nil
}

// EnableAll turns every category of the catalog on, the registered ones
// included.
func (d *Draft) EnableAll() { d.setAll(true) }

// DisableAll turns every category of the catalog off.
func (d *Draft) DisableAll() { d.setAll(false) }

func (d *Draft) setAll(on bool) {
	for i := range d.on {
		d.on[i] = on
	}
}

// Reset puts every category back to its default state
// ([Category.DefaultEnabled]). It leaves the recipients alone: they are
// edited on their own screen.
func (d *Draft) Reset() { copy(d.on, d.catalog.defaults) }

// Recipients returns the draft's recipients. The slice is a copy.
func (d *Draft) Recipients() []string {
	return append([]string(nil), d.recipients...)
}

// SetRecipients replaces the recipient list with list, validated and
// normalised by [ParseRecipients] under the catalog's maximum. If any entry
// is invalid, or there are too many, it returns a *[RecipientError] naming
// the entry and its position, and the draft keeps its previous list.
func (d *Draft) SetRecipients(list []string) error {
	rs, err := ParseRecipients(list, d.catalog.maxRecipients)
	if err != nil {
		return err
	}
	d.recipients = rs
	return nil
}

// Clone returns an independent copy of the draft, to preview a bulk change
// without applying it:
//
//	preview := d.Clone()
//	preview.EnableAll()
//	ask(preview.Change()) // on "Yes": d = preview
func (d *Draft) Clone() *Draft {
	c := *d
	c.on = append([]bool(nil), d.on...)
	return &c
}

// Settings returns the settings the draft would save: its category states
// and recipients, with the tenant and Version of [Draft.Base]. Pass them to
// [SettingsStore.Save], which stores them only if the tenant's settings are
// still at that version; a host that sends alerts passes them to
// [Dispatcher.Save], which does the same and also drops the alerts queued
// for the categories they turn off. Later edits of the draft do not change
// the result.
func (d *Draft) Settings() *Settings {
	return &Settings{
		Tenant:     d.base.Tenant,
		Version:    d.base.Version,
		catalog:    d.catalog,
		on:         append([]bool(nil), d.on...),
		recipients: d.recipients,
	}
}

// Change describes what saving the draft would change compared with
// [Draft.Base]: the categories that flip and the recipients added or
// removed.
func (d *Draft) Change() Change {
	return Diff(d.base, d.Settings())
}

// A Change is the difference between two settings of one tenant: what a
// save would do, described for a confirmation dialog. Its zero value is no
// change. A Change is a plain value; [Diff] returns new slices.
type Change struct {
	// Flips are the categories whose state changes, in catalog order.
	Flips []Flip
	// Added and Removed are the recipients that a save adds and removes, in
	// list order.
	Added, Removed []string
}

// A Flip is one category changing state. It is a plain value.
type Flip struct {
	// Category is the category that changes state.
	Category Category
	// Enabled is the new state: true when the category is turned on.
	Enabled bool
}

// Empty reports whether the change changes nothing.
func (c Change) Empty() bool {
	return len(c.Flips) == 0 && len(c.Added) == 0 && len(c.Removed) == 0
}

// String describes the change in one line for people, such as
// `turn on "Threat Alerts"; add ops@example.com`, or "no change".
func (c Change) String() string {
	if c.Empty() {
		return "no change"
	}
	var parts []string
	for _, f := range c.Flips {
		verb := "turn off"
		if f.Enabled {
			verb = "turn on"
		}
		parts = append(parts, fmt.Sprintf("%s %q", verb, f.Category.Name))
	}
	for _, r := range c.Added {
		parts = append(parts, "add "+r)
	}
	for _, r := range c.Removed {
		parts = append(parts, "remove "+r)
	}
	return strings.Join(parts, "; ")
}

// Diff returns the change from old to next: the categories of next's
// catalog whose [Settings.Enabled] differs, and the recipients added and
// removed.
func Diff(old, next *Settings) Change {
	var ch Change
	if next.catalog != nil {
		for i, cat := range next.catalog.cats {
			if next.on[i] != old.Enabled(cat.ID) {
				ch.Flips = append(ch.Flips, Flip{Category: cat, Enabled: next.on[i]})
			}
		}
	}
	ch.Added = missing(next.recipients, old.recipients)
	ch.Removed = missing(old.recipients, next.recipients)
	return ch
}

// missing returns the elements of a that are not in b, in a's order.
func missing(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, y := range b {
		in[y] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
