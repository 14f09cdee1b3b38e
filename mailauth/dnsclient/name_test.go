package dnsclient

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"example.com", true},
		{"example.com.", true},
		{"a b%c:d.example", true},
		{strings.Repeat("a", 63) + ".com", true},
		{strings.Repeat("a", 64) + ".com", false},
		{"a..b", false},
		{".a", false},
		{"", false},
		{".", false},
		{strings.Repeat("a.", 126) + "b", true},
		{strings.Repeat("a.", 127) + "b", false},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.want {
			t.Errorf("validName(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\.b`, "a.b"},
		{`\\x`, `\x`},
		{`caf\195\169`, "caf\xc3\xa9"},
		{`\"q\"`, `"q"`},
		{`end\`, `end\`},
		{`\12`, `12`},
	}
	for _, tt := range tests {
		if got := unescape(tt.in); got != tt.want {
			t.Errorf("unescape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"", `\`, `\1`, `\123\\x\.`, "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := unescape(s); len(got) > len(s) {
			t.Errorf("unescape(%q) = %q is longer than its input", s, got)
		}
		if !strings.Contains(s, `\`) && unescape(s) != s {
			t.Errorf("unescape(%q) changed a string without escapes", s)
		}
	})
}
