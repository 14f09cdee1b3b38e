package dmarc_test

import (
	"errors"
	"testing"

	"github.com/alertmail/alertmail/mailauth/dmarc"
)

func TestAuthorDomain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from, want string
		err        error
	}{
		{"alerts@example.com", "example.com", nil},
		{`"Security Alerts" <alerts@News.Example.COM>`, "news.example.com", nil},
		{"a@example.com, b@EXAMPLE.com", "example.com", nil},
		{"a@example.com, b@example.net", "", dmarc.ErrMultipleFrom},
		{"", "", dmarc.ErrNoFrom},
		{"   ", "", dmarc.ErrNoFrom},
		{"undisclosed-recipients:;", "", dmarc.ErrNoFrom},
		{"alerts@exa_mple.com", "exa_mple.com", nil},
		// U-labels are converted to A-labels (RFC 9989 section 5.3.1).
		{"Ä <alerts@Bücher.Example>", "xn--bcher-kva.example", nil},
		{"a@bücher.example, b@xn--bcher-kva.example", "xn--bcher-kva.example", nil},
		{"alerts@xn--zz.example", "", dmarc.ErrInvalidDomain},
		{"alerts@-bad.example", "", dmarc.ErrInvalidDomain},
		{"alerts@[192.0.2.1]", "", dmarc.ErrInvalidDomain},
	}
	for _, c := range cases {
		t.Run(c.from, func(t *testing.T) {
			t.Parallel()
			got, err := dmarc.AuthorDomain(c.from)
			if got != c.want || (c.err == nil) != (err == nil) || c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("AuthorDomain(%q) = %q, %v; want %q, %v", c.from, got, err, c.want, c.err)
			}
		})
	}
}

func TestAuthorDomainSyntaxError(t *testing.T) {
	t.Parallel()
	if d, err := dmarc.AuthorDomain("not an address"); err == nil {
		t.Errorf("AuthorDomain(%q) = %q, nil; want an error", "not an address", d)
	}
}

func FuzzAuthorDomain(f *testing.F) {
	for _, s := range []string{
		"alerts@example.com", `"A, B" <a@example.com>`, "a@b, c@d", "=?utf-8?q?x?= <a@b.c>",
		"group: a@b.c, d@b.c;", "<@route:a@b.c>", "a@[::1]", "a@" + string(rune(0x4e2d)) + ".com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, from string) {
		d, err := dmarc.AuthorDomain(from)
		if err != nil {
			return
		}
		if d == "" || len(d) > 253 {
			t.Errorf("AuthorDomain(%q) = %q; want a domain name", from, d)
		}
		for i := 0; i < len(d); i++ {
			if c := d[i]; c >= 'A' && c <= 'Z' || c > 0x7e || c <= ' ' {
				t.Fatalf("AuthorDomain(%q) = %q; want lower-case LDH", from, d)
			}
		}
	})
}
