package rediskey

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

func TestSpaceTenant(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("am")
	require.NoError(t, err)
	tests := []struct {
		tenant, want string
	}{
		{"acme", "am:{acme}"},
		{"Acme-1_x.y", "am:{Acme-1_x.y}"},
		{"a:b", "am:{a%3Ab}"},
		{"a}b", "am:{a%7Db}"},
		{"{b}", "am:{%7Bb%7D}"},
		{"*", "am:{%2A}"},
		{"a?[x]\\", "am:{a%3F%5Bx%5D%5C}"},
		{"%41", "am:{%2541}"},
		{"a b", "am:{a%20b}"},
		{"ü", "am:{%C3%BC}"},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			got, err := ks.Tenant(tt.tenant)
			require.NoErrorf(t, err, "Tenant(%q)", tt.tenant)
			assert.Equalf(t, tt.want, got, "Tenant(%q) = %q; want %q", tt.tenant, got, tt.want)
		})
	}
	// Tenant ids follow the rule of the whole SDK.
	for _, tenant := range []string{"", strings.Repeat("a", alerts.MaxTenantLen+1), "a\r\nb", "\xff"} {
		_, err := ks.Tenant(tenant)
		assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "Tenant(%.40q) error = %v; want alerts.ErrInvalidTenant", tenant, err)
		_, err = ks.Keys(tenant, "category", "c", "lim")
		assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "Keys(%.40q) error = %v; want alerts.ErrInvalidTenant", tenant, err)
	}
}

func TestSpaceKeys(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("am")
	require.NoError(t, err)
	got, err := ks.Keys("a}b", "category", "active-threat:x*", "lim", "pend")
	require.NoError(t, err)
	want := []string{"am:{a%7Db}:lim:active-threat%3Ax%2A", "am:{a%7Db}:pend:active-threat%3Ax%2A"}
	assert.Equalf(t, want, got, "Keys(%q, %q) = %q; want %q", "a}b", "active-threat:x*", got, want)
}

func TestNewSpaceDefault(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("")
	require.NoError(t, err)
	got, err := ks.Tenant("acme")
	require.NoError(t, err)
	assert.Equalf(t, DefaultPrefix+":{acme}", got, "NewSpace(\"\").Tenant(%q) = %q; want the default prefix", "acme", got)
}

func TestKeyRefused(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("am")
	require.NoError(t, err)
	tests := []struct {
		name, field string
		err         func() error
	}{
		{"long component", "category", func() error {
			_, err := ks.Keys("acme", "category", strings.Repeat("a", maxComponentLen+1), "lim")
			return err
		}},
		{"brace in prefix", "prefix", func() error { _, err := NewSpace("a{b}"); return err }},
		{"glob in prefix", "prefix", func() error { _, err := NewSpace("a*"); return err }},
		{"space in prefix", "prefix", func() error { _, err := NewSpace("a b"); return err }},
		{"control in prefix", "prefix", func() error { _, err := NewSpace("a\nb"); return err }},
		{"long prefix", "prefix", func() error { _, err := NewSpace(strings.Repeat("a", maxPrefixLen+1)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			require.ErrorIsf(t, err, ErrInvalidKey, "%s: error = %v; want one wrapping ErrInvalidKey", tt.name, err)
			var ke *KeyError
			require.ErrorAsf(t, err, &ke, "%s: error = %v; want a *KeyError", tt.name, err)
			assert.Equalf(t, tt.field, ke.Field, "%s: KeyError.Field = %q; want %q", tt.name, ke.Field, tt.field)
			assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "), "error %q lacks the package prefix", err)
		})
	}
	_, err = NewSpace("my-app:v1.2_x")
	assert.NoErrorf(t, err, "NewSpace(%q)", "my-app:v1.2_x")
}

// hashTag returns the part of key Redis Cluster hashes: the text between
// the first '{' and the first '}' after it, when that is not empty.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

// unescape inverts escapeKeyPart, for the fuzz test.
func unescape(s string) (string, bool) {
	if s == "%" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			if !plain(s[i]) {
				return "", false
			}
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		var v byte
		for _, c := range []byte(s[i+1 : i+3]) {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | (c - '0')
			case 'A' <= c && c <= 'F':
				v = v<<4 | (c - 'A' + 10)
			default:
				return "", false
			}
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}

// FuzzTenantKey checks the isolation property of the layout: for any
// tenant id and component, the key's hash tag is the tenant's and decodes
// back to exactly that tenant, and the key holds no glob or control
// character that could make a pattern reach other tenants' keys.
func FuzzTenantKey(f *testing.F) {
	for _, s := range []string{"acme", "a}b", "{x}", "a:b:c", "*", "%7D", "\x00", "ü", "a\r\nDEL *"} {
		f.Add(s, "active-threat")
	}
	ks, err := NewSpace("am:v1")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, tenant, comp string) {
		keys, err := ks.Keys(tenant, "key", comp, "kind")
		if alerts.ValidateTenant(tenant) != nil || len(comp) > maxComponentLen {
			require.Errorf(t, err, "Keys(%q, %q) of a refused tenant or an over-long component", tenant, comp)
			return
		}
		require.NoErrorf(t, err, "Keys(%q, %q)", tenant, comp)
		key := keys[0]
		tag := hashTag(key)
		got, ok := unescape(tag)
		require.Truef(t, ok && got == tenant, "hash tag of %q = %q, decoding to %q; want the tenant %q", key, tag, got, tenant)
		base, err := ks.Tenant(tenant)
		require.NoErrorf(t, err, "Tenant(%q)", tenant)
		require.Truef(t, strings.HasPrefix(key, base+":kind:"), "key %q does not start with %q", key, base+":kind:")
		c, ok := unescape(key[len(base+":kind:"):])
		require.Truef(t, ok && c == comp, "component of %q decodes to %q; want %q", key, c, comp)
		i := strings.IndexAny(key, "*?[]\\ \r\n\x00")
		require.Lessf(t, i, 0, "key %q holds a glob, space or control character", key)
	})
}
