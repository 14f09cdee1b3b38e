package rediskey

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alertmail/alertmail/alerts"
)

// DefaultPrefix begins every key when a store's Config.Prefix is empty.
const DefaultPrefix = "alertmail"

// Limits on the parts of a key, so that no input makes keys unbounded.
// Tenant ids are bounded by alerts.MaxTenantLen.
const (
	maxPrefixLen    = 64
	maxComponentLen = 1024
)

// ErrInvalidKey is the sentinel of a [KeyError]: a prefix or key component
// that the store refuses. A tenant id is refused as everywhere in the SDK,
// with the error of [alerts.ValidateTenant] (wrapping
// [alerts.ErrInvalidTenant]).
var ErrInvalidKey = errors.New("redisstore: invalid key")

// A KeyError reports a prefix or key component the store refuses: too
// long, or (for the prefix, which is used as given) holding a
// character outside [A-Za-z0-9._:-]. Key components are otherwise escaped,
// so they may hold any bytes, or none; so are tenant ids, within the rule
// of [alerts.ValidateTenant].
type KeyError struct {
	// Field names what was refused: "prefix" or a component name.
	Field string
	// Value is the refused input.
	Value string
	// Reason says why, in a few words.
	Reason string
}

// Error says which input was refused and why, in the form
// "redisstore: invalid <field> <value>: <reason>".
func (e *KeyError) Error() string {
	return fmt.Sprintf("redisstore: invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidKey.
func (e *KeyError) Unwrap() error { return ErrInvalidKey }

// A Space is the key layout of one prefix. Every key of a tenant but its
// limiter keys (which are in buckets: see [Space.BucketKeys]) is
//
//	<prefix>:{<tenant>}:<kind>[:<component>...]
//
// where <tenant> and each <component> are escaped by escapeKeyPart. The
// escaped tenant holds no brace, and the prefix is checked to hold none,
// so the braces around the tenant are the key's Redis Cluster hash tag:
// every key of a tenant lies in one hash slot, which the scripts need (all
// the keys of a script must share a slot), and keys of different tenants
// never collide because the escaping is injective and the tenant is
// delimited by the braces.
//
// A Space is a value, safe for concurrent use; make one with [NewSpace].
type Space struct {
	prefix string
}

// NewSpace checks prefix ("" means [DefaultPrefix]): it is used verbatim,
// so it may hold only characters that are neither separators of the
// layout nor glob or hash-tag characters. The error is a *[KeyError].
func NewSpace(prefix string) (Space, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if len(prefix) > maxPrefixLen {
		return Space{}, &KeyError{Field: "prefix", Value: prefix, Reason: fmt.Sprintf("longer than %d bytes", maxPrefixLen)}
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !plain(c) && c != ':' {
			return Space{}, &KeyError{Field: "prefix", Value: prefix, Reason: fmt.Sprintf("character %q at %d is not one of [A-Za-z0-9._:-]", c, i)}
		}
	}
	return Space{prefix: prefix}, nil
}

// Tenant returns the part of every key of tenant up to and including the
// hash tag: "<prefix>:{<escaped tenant>}".
func (k Space) Tenant(tenant string) (string, error) {
	if err := alerts.ValidateTenant(tenant); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(k.prefix) + 3 + len(tenant))
	b.WriteString(k.prefix)
	b.WriteString(":{")
	escapeKeyPart(&b, tenant)
	b.WriteByte('}')
	return b.String(), nil
}

// Keys returns, for each kind, the key "<prefix>:{<tenant>}:<kind>:<comp>"
// (field names comp in errors: "category"). The keys are slices of one
// string, built in one allocation: this sits on the limiter's hot path.
func (k Space) Keys(tenant, field, comp string, kinds ...string) ([]string, error) {
	if err := alerts.ValidateTenant(tenant); err != nil {
		return nil, err
	}
	if len(comp) > maxComponentLen {
		return nil, &KeyError{Field: field, Value: comp, Reason: fmt.Sprintf("longer than %d bytes", maxComponentLen)}
	}
	var b strings.Builder
	b.Grow(len(kinds) * (len(k.prefix) + 3*len(tenant) + 3*len(comp) + 16))
	ends := make([]int, len(kinds))
	for i, kind := range kinds {
		b.WriteString(k.prefix)
		b.WriteString(":{")
		escapeKeyPart(&b, tenant)
		b.WriteString("}:")
		b.WriteString(kind)
		b.WriteByte(':')
		escapeKeyPart(&b, comp)
		ends[i] = b.Len()
	}
	all := b.String()
	out := make([]string, len(kinds))
	start := 0
	for i, end := range ends {
		out[i], start = all[start:end], end
	}
	return out, nil
}

// escapeKeyPart writes s with every byte outside [A-Za-z0-9._-] written as
// %XX (upper-case hex), and the empty string as a lone "%" (which no
// non-empty string escapes to), so that an empty part still shows in the
// key. Separators (':'), braces, glob characters (*?[]\),
// '%' itself, spaces, control bytes and non-ASCII bytes are all escaped, so
// the result can delimit nothing and match no pattern but itself; and the
// escaping is injective, so two tenants never share a key.
func escapeKeyPart(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	if s == "" {
		b.WriteByte('%')
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
}

// plain reports whether c is written as itself in keys.
func plain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
