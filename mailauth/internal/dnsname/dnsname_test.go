package dnsname

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestValid(t *testing.T) {
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
		if got := Valid(tt.name); got != tt.want {
			t.Errorf("Valid(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestRaw(t *testing.T) {
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
		if got := Raw(tt.in); got != tt.want {
			t.Errorf("Raw(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRaw(f *testing.F) {
	for _, s := range []string{"", `\`, `\1`, `\123\\x\.`, "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := Raw(s); len(got) > len(s) {
			t.Errorf("Raw(%q) = %q is longer than its input", s, got)
		}
		if !strings.Contains(s, `\`) && Raw(s) != s {
			t.Errorf("Raw(%q) changed a string without escapes", s)
		}
	})
}

// TestTextRaw checks that Text and Raw are inverse on the names SPF macros
// can produce, through a miekg/dns pack and unpack.
func TestTextRaw(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"example.com", "50% off: a b.example.com", `back\slash.example`, "caf\xc3\xa9.example", `q"uote.example`} {
		m := new(dns.Msg)
		m.SetQuestion(Text(raw), dns.TypeTXT)
		b, err := m.Pack()
		if err != nil {
			t.Errorf("packing Text(%q) = %q: %v", raw, Text(raw), err)
			continue
		}
		back := new(dns.Msg)
		if err := back.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if got := Raw(back.Question[0].Name); !Equal(got, raw) || !strings.HasSuffix(got, ".") {
			t.Errorf("Raw(unpacked Text(%q)) = %q; want %q.", raw, got, raw)
		}
	}
}
