package alerts

import "time"

// An Event is one thing that happened for a tenant and may warrant an alert:
// a threat detection, a health change, a configuration drift.
//
// Events are plain values; the SDK copies them and never modifies one it was
// given.
//
// Its JSON form, for a host's HTTP API, is an object with the members named
// in the field tags below; "id", "asset", "fingerprint" and "summary" are
// left out when empty and "time" when zero, and the time is RFC 3339:
//
//	{"id":"det-1","tenant":"acme","category":"active-threat","score":8.5,
//	 "asset":"laptop-42","summary":"Credential dumping","time":"2026-03-02T09:10:00Z"}
type Event struct {
	// ID identifies the event within its tenant; the host chooses it (a
	// detection id, say). Message identities are derived from it, so the same
	// event retried yields the same Message.ID.
	ID string `json:"id,omitempty"`
	// Tenant is the tenant (subscription) the event belongs to, an id
	// [ValidateTenant] accepts.
	Tenant string `json:"tenant"`
	// Category is the alert category the event falls under: an id of the
	// catalog, as the catalog defines it. Ids are compared exactly, never
	// folded: "Active-Threat" is not [ActiveThreat] but an unknown category,
	// which [Dispatcher.Dispatch] refuses.
	Category CategoryID `json:"category"`
	// Score is the severity score; the threshold of the Active Threat
	// category is applied to it.
	Score float64 `json:"score"`
	// Asset names the host, device or resource the event is about.
	Asset string `json:"asset,omitempty"`
	// Fingerprint identifies what the event reports independently of when it
	// was seen (a rule id and a file hash, say); the digest uses it with Asset
	// to tell new notifications from repeats.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Summary is a one-line description for people.
	Summary string `json:"summary,omitempty"`
	// Time is when the event was detected.
	Time time.Time `json:"time,omitzero"`
}
