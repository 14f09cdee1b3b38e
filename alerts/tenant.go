package alerts

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxTenantLen is the length of the longest tenant id, in bytes.
const MaxTenantLen = 256

// ErrInvalidTenant means a tenant id breaks the rule of [ValidateTenant].
// A [TenantError] wraps it.
var ErrInvalidTenant = errors.New("alerts: invalid tenant id")

// A TenantError reports a tenant id that breaks the rule of
// [ValidateTenant]. Every API and store of the SDK returns it, or wraps
// it, for such an id.
type TenantError struct {
	// ID is the id as given. Error shows at most its first 64 bytes.
	ID string
	// Reason says what is wrong, for people.
	Reason string
}

// shownTenantLen bounds the part of a refused id an error message shows:
// an id can be as long as its sender likes, a log line should not be.
const shownTenantLen = 64

// Error names the id, or its first 64 bytes and its length, and the
// reason.
func (e *TenantError) Error() string {
	if len(e.ID) <= shownTenantLen {
		return fmt.Sprintf("alerts: invalid tenant id %q: %s", e.ID, e.Reason)
	}
	cut := shownTenantLen
	for cut > shownTenantLen-utf8.UTFMax && !utf8.RuneStart(e.ID[cut]) {
		cut-- // don't split a character
	}
	return fmt.Sprintf("alerts: invalid tenant id %q… (%d bytes): %s", e.ID[:cut], len(e.ID), e.Reason)
}

// Unwrap returns [ErrInvalidTenant], and for the empty id [ErrNoTenant]
// too.
func (e *TenantError) Unwrap() []error {
	if e.ID == "" {
		return []error{ErrInvalidTenant, ErrNoTenant}
	}
	return []error{ErrInvalidTenant}
}

// ValidateTenant reports whether id is a valid tenant id: 1 to
// [MaxTenantLen] bytes of valid UTF-8 with no control character (Unicode
// category Cc: NUL, tab, CR, LF, DEL, C1), no invisible formatting
// character (Cf: bidi controls, zero-width characters) and no line or
// paragraph separator (U+2028, U+2029). Anything else may appear: spaces,
// punctuation, the separators and glob characters of store keys (stores
// escape them), letters of any script. The error is a *[TenantError]
// wrapping [ErrInvalidTenant].
//
// A tenant id is the host's name for a tenant (a subscription, an
// account). Every API and every store of the SDK takes exactly the ids
// ValidateTenant accepts, and refuses the others with its error, before
// doing anything: what one store keeps, every other keeps too, and an id
// saved always loads. The rule keeps out what cannot make the trip intact:
// invalid UTF-8, which a store of JSON documents replaces (the tenant's
// settings would then never load again); control characters and line
// breaks, which would forge lines in logs and headers wherever the id is
// written; invisible characters, which make two ids print alike; and
// unbounded length, which would make store keys, memory and error messages
// unbounded. 256 bytes holds any UUID, ARN or email address.
//
// ValidateTenant does not allocate for a valid id.
func ValidateTenant(id string) error {
	if reason := tenantProblem(id); reason != "" {
		return &TenantError{ID: id, Reason: reason}
	}
	return nil
}

// tenantProblem returns what is wrong with id, or "".
func tenantProblem(id string) string {
	switch {
	case id == "":
		return "empty"
	case len(id) > MaxTenantLen:
		return fmt.Sprintf("longer than %d bytes", MaxTenantLen)
	}
	// Printable ASCII is the common case, and valid.
	i := 0
	for i < len(id) && id[i] >= 0x20 && id[i] < 0x7f {
		i++
	}
	if i == len(id) {
		return ""
	}
	if !utf8.ValidString(id) {
		return "not valid UTF-8"
	}
	for j, r := range id[i:] {
		switch {
		case r == '\r' || r == '\n':
			return fmt.Sprintf("holds a line break (%U) at byte %d", r, i+j)
		case unicode.Is(unicode.Cc, r):
			return fmt.Sprintf("holds control character %U at byte %d", r, i+j)
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			return fmt.Sprintf("holds invisible or line-breaking character %U at byte %d", r, i+j)
		}
	}
	return ""
}
