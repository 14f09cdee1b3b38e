package alertstest

import "strings"

// InvalidTenants returns tenant ids that alerts.ValidateTenant refuses, at
// least one for each part of its rule: the empty id, ids one byte and 10 KB
// over alerts.MaxTenantLen, invalid UTF-8, control characters (CR, LF, NUL,
// tab, DEL, a C1 control), an invisible character (a bidi override, a
// zero-width space) and a line separator. Every API and store of the SDK
// must refuse each with an error wrapping alerts.ErrInvalidTenant. The
// slice is new at each call.
func InvalidTenants() []string {
	return []string{
		"",
		strings.Repeat("t", 257),
		strings.Repeat("t", 10<<10),
		"\xff", "acme\xff", "ac\xc3me",
		"a\r\nb", "acme\n", "acme\x00", "ac\tme", "acme\x7f", "acme\u0085",
		"acme\u202e", "ac\u200bme", "acme\u2028",
	}
}

// ValidTenants returns tenant ids at the edges of the rule of
// alerts.ValidateTenant, which every store must keep apart and give back
// byte for byte: one of alerts.MaxTenantLen bytes (and one of that length
// ending in a character of several bytes), characters of other scripts,
// spaces, and the separators, braces, glob and escape characters of store
// keys. The slice is new at each call.
func ValidTenants() []string {
	return []string{
		strings.Repeat("t", 256),
		strings.Repeat("t", 253) + "ü",
		"ünï", "日本", "acme ", " acme", "a b",
		"acme:x", "{acme}", "acme*", "%61cme", `a\b`, "a/b",
	}
}
