package alerts

// CategoryID is the stable identifier of an alert category, such as
// "active-threat". It is what settings documents and stores persist.
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
