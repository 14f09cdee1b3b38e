package alerts

import "time"

// An Event is one thing that happened for a tenant and may warrant an alert:
// a threat detection, a health change, a configuration drift.
//
// Events are plain values; the SDK copies them and never modifies one it was
// given.
type Event struct {
	// ID identifies the event within its tenant; the host chooses it (a
	// detection id, say). Message identities are derived from it, so the same
	// event retried yields the same Message.ID.
	ID string
	// Tenant is the tenant (subscription) the event belongs to, an id
	// [ValidateTenant] accepts.
	Tenant string
	// Category is the alert category the event falls under.
	Category CategoryID
	// Score is the severity score; the threshold of the Active Threat
	// category is applied to it.
	Score float64
	// Asset names the host, device or resource the event is about.
	Asset string
	// Fingerprint identifies what the event reports independently of when it
	// was seen (a rule id and a file hash, say); the digest uses it with Asset
	// to tell new notifications from repeats.
	Fingerprint string
	// Summary is a one-line description for people.
	Summary string
	// Time is when the event was detected.
	Time time.Time
}
