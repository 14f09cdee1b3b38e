package mailauth

import "time"

// A Migration moves an application's default sender domain from Old to New
// at the instant At, as the platform moves its bulk mail off the corporate
// domain one application at a time.
//
// The rule at the instant: At is the first instant of the new domain. An
// application sends from Old at every instant strictly before At and from
// New at At and after, the half-open interval [At, ∞) that time.Time's
// Before expresses. An effective date of "1 January 2023" is therefore
// At = 2023-01-01T00:00:00 in the zone the date is meant in.
//
// The zero value is not a valid migration; [NewPolicy] checks Old, New and
// At.
//
// It is a value, safe for concurrent use.
type Migration struct {
	// Old is the domain the application sends from before At. It may be the
	// corporate domain: moving off it is what the migration is for.
	Old string
	// New is the domain it sends from at At and after: the platform domain
	// or a subdomain of it, never the corporate domain. The default is
	// PolicyConfig.PlatformDomain.
	New string
	// At is the effective instant; required.
	At time.Time
}

// DomainAt returns the domain in effect at t: Old if t is before At, New
// otherwise.
func (m Migration) DomainAt(t time.Time) string {
	if t.Before(m.At) {
		return m.Old
	}
	return m.New
}
