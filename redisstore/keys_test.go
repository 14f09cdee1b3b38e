package redisstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/alerts"
)

func TestKeyspaceTenant(t *testing.T) {
	t.Parallel()
	ks, err := newKeyspace("am")
	if err != nil {
		t.Fatal(err)
	}
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
			got, err := ks.tenant(tt.tenant)
			if err != nil || got != tt.want {
				t.Errorf("tenant(%q) = %q, %v; want %q, nil", tt.tenant, got, err, tt.want)
			}
		})
	}
	// Tenant ids follow the rule of the whole SDK.
	for _, tenant := range []string{"", strings.Repeat("a", alerts.MaxTenantLen+1), "a\r\nb", "\xff"} {
		if _, err := ks.tenant(tenant); !errors.Is(err, alerts.ErrInvalidTenant) {
			t.Errorf("tenant(%.40q) error = %v; want alerts.ErrInvalidTenant", tenant, err)
		}
		if _, err := ks.keys(tenant, "category", "c", "lim"); !errors.Is(err, alerts.ErrInvalidTenant) {
			t.Errorf("keys(%.40q) error = %v; want alerts.ErrInvalidTenant", tenant, err)
		}
	}
}

func TestKeyRefused(t *testing.T) {
	t.Parallel()
	ks, _ := newKeyspace("am")
	base, _ := ks.tenant("acme")
	tests := []struct {
		name, field string
		err         func() error
	}{
		{"long component", "category", func() error {
			_, err := component(base, "category", strings.Repeat("a", maxComponentLen+1))
			return err
		}},
		{"empty prefix", "prefix", func() error { _, err := newKeyspace(""); return err }},
		{"brace in prefix", "prefix", func() error { _, err := newKeyspace("a{b}"); return err }},
		{"glob in prefix", "prefix", func() error { _, err := newKeyspace("a*"); return err }},
		{"space in prefix", "prefix", func() error { _, err := newKeyspace("a b"); return err }},
		{"control in prefix", "prefix", func() error { _, err := newKeyspace("a\nb"); return err }},
		{"long prefix", "prefix", func() error { _, err := newKeyspace(strings.Repeat("a", maxPrefixLen+1)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			var ke *KeyError
			if !errors.Is(err, ErrInvalidKey) || !errors.As(err, &ke) || ke.Field != tt.field {
				t.Fatalf("%s: error = %v; want a *KeyError for field %q wrapping ErrInvalidKey", tt.name, err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "redisstore: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := newKeyspace("my-app:v1.2_x"); err != nil {
		t.Errorf("newKeyspace(%q) = %v; want nil", "my-app:v1.2_x", err)
	}
}

func TestComponent(t *testing.T) {
	t.Parallel()
	got, err := component("am:{t}", "key", "active-threat:x*")
	if want := "am:{t}:active-threat%3Ax%2A"; err != nil || got != want {
		t.Errorf("component(%q) = %q, %v; want %q, nil", "active-threat:x*", got, err, want)
	}
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
	ks, _ := newKeyspace("am:v1")
	f.Fuzz(func(t *testing.T, tenant, comp string) {
		base, err := ks.tenant(tenant)
		if err != nil {
			if alerts.ValidateTenant(tenant) == nil {
				t.Fatalf("tenant(%q) = %v; want no error", tenant, err)
			}
			return
		}
		key, err := component(base, "key", comp)
		if err != nil {
			if len(comp) <= maxComponentLen {
				t.Fatalf("component(%q) = %v; want no error", comp, err)
			}
			return
		}
		tag := hashTag(key)
		got, ok := unescape(tag)
		if !ok || got != tenant {
			t.Fatalf("hash tag of %q = %q, decoding to %q; want the tenant %q", key, tag, got, tenant)
		}
		if !strings.HasPrefix(key, "am:v1:{") {
			t.Fatalf("key %q does not start with the prefix and the tag", key)
		}
		rest := key[len(base):]
		if !strings.HasPrefix(rest, ":") {
			t.Fatalf("key %q: %q follows the tenant part; want ':'", key, rest)
		}
		if c, ok := unescape(rest[1:]); !ok || c != comp {
			t.Fatalf("component of %q decodes to %q; want %q", key, c, comp)
		}
		if i := strings.IndexAny(key, "*?[]\\ \r\n\x00"); i >= 0 {
			t.Fatalf("key %q holds %q at %d", key, key[i], i)
		}
	})
}
