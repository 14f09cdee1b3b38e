package domain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
)

func TestToASCII(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "example.com", want: "example.com"},
		{in: "Mail.EXAMPLE.com.", want: "mail.example.com."},
		{in: "Bücher.Example", want: "xn--bcher-kva.example"},
		{in: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{in: "XN--BCHER-KVA.example", want: "xn--bcher-kva.example"},
		{in: "пример.рф", want: "xn--e1afmkfd.xn--p1ai"},
		{in: "ｅｘａｍｐｌｅ.com", want: "example.com"}, // full-width letters map (UTS #46)
		{in: "faß.de", want: "xn--fa-hia.de"},    // non-transitional: ß kept
		{in: "_spf.Platform.example", want: "_spf.platform.example"},
		{in: "s1._domainkey.bücher.example", want: "s1._domainkey.xn--bcher-kva.example"},
		{in: "_dmarc._x.bücher.example", want: "_dmarc._x.xn--bcher-kva.example"},
		{in: "_spf", want: "_spf"},
		{in: "xn--zz.example", err: true}, // an A-label that does not decode
		{in: "-a.example", err: true},
		{in: "ab--cd.example", err: true},
		{in: "a b.example", err: true},
		{in: "Exa_Mple.bücher.example", want: "exa_mple.xn--bcher-kva.example"},
		{in: "bü_cher.example", err: true}, // no internationalised label holds "_"
		{in: "_ü.example", err: true},
		{in: "\x87.example", err: true}, // not UTF-8: idna would make an A-label that does not decode
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ToASCII(tt.in)
			if tt.err {
				assert.Error(t, err, "ToASCII(%q) = %q, nil; want an error", tt.in, got)
				return
			}
			require.NoError(t, err, "ToASCII(%q)", tt.in)
			assert.Equal(t, tt.want, got, "ToASCII(%q) = %q; want %q", tt.in, got, tt.want)
		})
	}
}

// FuzzToASCII checks that the LDH fast path gives exactly what idna.Lookup
// gives, and that a result is always ASCII and lower-case.
func FuzzToASCII(f *testing.F) {
	for _, s := range []string{"example.com", "a..b", ".", "", "a.", "-", "ab--c", "xn--bcher-kva.example", "Bücher.example", "_spf.x", "_.", "A-B.c-D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainLDH(s) {
			want, err := idna.Lookup.ToASCII(s)
			if err != nil || want != strings.ToLower(s) {
				t.Fatalf("plainLDH(%q) = true, but idna.Lookup.ToASCII = %q, %v; want %q", s, want, err, strings.ToLower(s))
			}
		}
		got, err := ToASCII(s)
		if err != nil {
			return
		}
		if !isASCII(got) || got != strings.ToLower(got) {
			t.Fatalf("ToASCII(%q) = %q; want lower-case ASCII", s, got)
		}
	})
}
