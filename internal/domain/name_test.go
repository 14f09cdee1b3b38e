package domain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	label63 = strings.Repeat("a", 63)
	label64 = strings.Repeat("a", 64)
	// name253 is four labels of 63 octets: 4*63 + 3 dots = 255; trimmed to 253.
	name253 = label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		syntax Syntax
		want   string
		err    string // a part of the error; "" for none
	}{
		{name: "host", in: "mail.example.com", syntax: Host, want: "mail.example.com"},
		{name: "single label", in: "localhost", syntax: Host, want: "localhost"},
		{name: "upper case lowered", in: "Mail.EXAMPLE.com", syntax: Host, want: "mail.example.com"},
		{name: "digits and inner hyphens", in: "1-2.x-y-z.example", syntax: Host, want: "1-2.x-y-z.example"},
		{name: "all-digit label", in: "123.example", syntax: Host, want: "123.example"},
		{name: "U-label converted", in: "Bücher.Example", syntax: Host, want: "xn--bcher-kva.example"},
		{name: "A-label kept", in: "XN--BCHER-KVA.example", syntax: Host, want: "xn--bcher-kva.example"},
		{name: "Cyrillic", in: "пример.рф", syntax: Host, want: "xn--e1afmkfd.xn--p1ai"},
		{name: "label of 63", in: label63 + ".example", syntax: Host, want: label63 + ".example"},
		{name: "name of 253", in: name253, syntax: Host, want: name253},
		{name: "DNS attribute label", in: "_dmarc.Example.com", syntax: DNS, want: "_dmarc.example.com"},
		{name: "DNS DKIM key name with U-label", in: "s1._domainkey.bücher.example", syntax: DNS, want: "s1._domainkey.xn--bcher-kva.example"},
		{name: "DNS underscore inside a label", in: "exa_mple.com", syntax: DNS, want: "exa_mple.com"},
		{name: "DNS single attribute label", in: "_spf", syntax: DNS, want: "_spf"},

		{name: "empty", in: "", syntax: Host, err: "is empty"},
		{name: "trailing dot", in: "example.com.", syntax: Host, err: "empty label"},
		{name: "root alone", in: ".", syntax: DNS, err: "empty label"},
		{name: "leading dot", in: ".example.com", syntax: Host, err: "empty label"},
		{name: "empty inner label", in: "a..example", syntax: DNS, err: "empty label"},
		{name: "label of 64", in: label64 + ".example", syntax: DNS, err: "longer than 63 octets"},
		{name: "name of 254", in: "c" + name253, syntax: Host, err: "longer than 253 octets"},
		{name: "U-label over 253 as A-label", in: strings.Repeat("ü.", 64) + "example", syntax: Host, err: "longer than 253 octets"},
		{name: "host underscore", in: "_dmarc.example.com", syntax: Host, err: `character '_' in label "_dmarc"`},
		{name: "host underscore inside", in: "exa_mple.com", syntax: Host, err: `character '_'`},
		{name: "leading hyphen", in: "-a.example", syntax: Host, err: "idna"},
		{name: "trailing hyphen in attribute part", in: "a-._x.example", syntax: DNS, err: `label "a-" starts or ends with a hyphen`},
		{name: "DNS hyphen rule", in: "_x-.example", syntax: DNS, err: `label "_x-" starts or ends with a hyphen`},
		{name: "hyphens in positions 3 and 4", in: "ab--cd.example", syntax: Host, err: "idna"},
		{name: "A-label that does not decode", in: "xn--zz.example", syntax: Host, err: "idna"},
		{name: "space", in: "a b.example", syntax: DNS, err: "idna"},
		{name: "U-label beside underscore", in: "bü_cher.example", syntax: DNS, err: "idna"},
		{name: "address literal", in: "[192.0.2.1]", syntax: Host, err: "idna"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.in, tt.syntax)
			if tt.err == "" {
				require.NoError(t, err, "Normalize(%q, %v)", tt.in, tt.syntax)
				assert.Equal(t, tt.want, got, "Normalize(%q, %v) = %q; want %q", tt.in, tt.syntax, got, tt.want)
				return
			}
			require.Error(t, err, "Normalize(%q, %v) = %q, nil; want an error", tt.in, tt.syntax, got)
			assert.Contains(t, err.Error(), tt.err, "Normalize(%q, %v) error = %v; want one about %q", tt.in, tt.syntax, err, tt.err)
			assert.Empty(t, got, "Normalize(%q, %v) = %q with an error; want empty", tt.in, tt.syntax, got)
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		syntax Syntax
		err    string // a part of the error; "" for none
	}{
		{name: "host", in: "mail.example.com", syntax: Host},
		{name: "case kept", in: "Mail.Example.COM", syntax: Host},
		{name: "A-label", in: "xn--bcher-kva.example", syntax: Host},
		{name: "selector", in: "alerts2026", syntax: DNS},
		{name: "selector with underscore", in: "s_1", syntax: DNS},
		{name: "selector with dots", in: "2026.alerts", syntax: DNS},
		{name: "DNS attribute label", in: "_dmarc.example.com", syntax: DNS},

		{name: "host underscore", in: "s_1", syntax: Host, err: `character '_' in label "s_1"`},
		{name: "U-label refused", in: "bücher.example", syntax: Host, err: `label "bücher" is not ASCII`},
		{name: "leading hyphen", in: "-a.example", syntax: DNS, err: `label "-a" starts or ends with a hyphen`},
		{name: "trailing hyphen", in: "a.b-", syntax: Host, err: `label "b-" starts or ends with a hyphen`},
		{name: "plus", in: "a+b.example", syntax: DNS, err: `character '+' in label "a+b"`},
		{name: "address literal", in: "[192.0.2.1]", syntax: Host, err: `character '['`},
		{name: "trailing dot", in: "example.com.", syntax: Host, err: "empty label"},
		{name: "empty", in: "", syntax: DNS, err: "is empty"},
		{name: "label of 64", in: label64, syntax: DNS, err: "longer than 63 octets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.in, tt.syntax)
			if tt.err == "" {
				assert.NoError(t, err, "Check(%q, %v)", tt.in, tt.syntax)
				return
			}
			require.Error(t, err, "Check(%q, %v) = nil; want an error", tt.in, tt.syntax)
			assert.Contains(t, err.Error(), tt.err, "Check(%q, %v) = %v; want an error about %q", tt.in, tt.syntax, err, tt.err)
		})
	}
}

func TestCheckLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		err  string // a part of the error; "" for none
	}{
		{name: "host", in: "example.com"},
		{name: "any octet", in: "jack&jill+x.e8.example.com"},
		{name: "non-ASCII octets", in: "bücher.example"},
		{name: "label of 63", in: label63 + ".x"},
		{name: "name of 253", in: name253},
		{name: "empty", in: "", err: "is empty"},
		{name: "trailing dot", in: "example.com.", err: "empty label"},
		{name: "empty inner label", in: "a..b", err: "empty label"},
		{name: "label of 64", in: "x." + label64, err: "longer than 63 octets"},
		{name: "name of 254", in: "c" + name253, err: "longer than 253 octets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckLength(tt.in)
			if tt.err == "" {
				assert.NoError(t, err, "CheckLength(%q)", tt.in)
				return
			}
			require.Error(t, err, "CheckLength(%q) = nil; want an error", tt.in)
			assert.Contains(t, err.Error(), tt.err, "CheckLength(%q) = %v; want an error about %q", tt.in, err, tt.err)
		})
	}
}

// FuzzNormalize checks that Normalize never panics, that what it accepts
// is lower-case ASCII within the limits that Check accepts as it is, and
// that the A-label form of an accepted name is accepted again, unchanged.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "Bücher.Example", "_dmarc.bücher.example", "s1._domainkey.x", "a..b", ".", "", "a.", "-a", "ab--c", "xn--zz", "exa_mple.com", "[192.0.2.1]", name253, label64} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, underscore bool) {
		syntax := Host
		if underscore {
			syntax = DNS
		}
		_ = CheckLength(s)
		_ = Check(s, syntax)
		got, err := Normalize(s, syntax)
		if err != nil {
			return
		}
		if !isASCII(got) || got != strings.ToLower(got) || len(got) > MaxName {
			t.Fatalf("Normalize(%q, %v) = %q; want lower-case ASCII of at most %d octets", s, syntax, got, MaxName)
		}
		if err := Check(got, syntax); err != nil {
			t.Fatalf("Normalize(%q, %v) = %q, which Check refuses: %v", s, syntax, got, err)
		}
		again, err := Normalize(got, syntax)
		if err != nil || again != got {
			t.Fatalf("Normalize(%q, %v) = %q, %v; want %q again", got, syntax, again, err, got)
		}
		if syntax == Host {
			if d, err := Normalize(s, DNS); err != nil || d != got {
				t.Fatalf("Normalize(%q, DNS) = %q, %v; want %q, as a host name is a DNS name", s, d, err, got)
			}
		}
	})
}
