package spf_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth/spf"
)

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []string{
		"v=spf1",
		"v=spf1 -all",
		"v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:db8::/32 ip6:2001:db8::1 ~all",
		"v=spf1 a mx a:mail.example.com/24 mx:example.com//64 a/24//48 ptr ptr:example.com -all",
		"v=spf1 include:_spf.example.com exists:%{ir}.%{l1r-}.%{d}.bl.example.net ?all",
		"v=spf1 +a -mx ~ptr ?all",
		"v=spf1 redirect=_spf.example.com",
		"v=spf1 -all exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat",
		"v=spf1 a:foo:bar/baz.example.com",
	}
	for _, in := range tests {
		r, err := spf.Parse(in)
		if err != nil {
			t.Errorf("Parse(%q) error = %v", in, err)
			continue
		}
		if got := r.String(); got != in {
			t.Errorf("Parse(%q).String() = %q; want the input", in, got)
		}
	}
	// Extra spaces and case are normalised.
	r, err := spf.Parse("V=SPF1   IP4:192.0.2.1  -ALL  REDIRECT=x.example.com ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.String(), "v=spf1 ip4:192.0.2.1 -all redirect=x.example.com"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

func TestParseTerms(t *testing.T) {
	t.Parallel()
	r, err := spf.Parse("v=spf1 -a:mail.example.com/24//64 ip6:2001:db8::/32 redirect=%{d}.example.net")
	if err != nil {
		t.Fatal(err)
	}
	want := []spf.Term{
		{Pos: 7, Qualifier: spf.QualifierFail, Mechanism: spf.A, Value: "mail.example.com", Len4: 24, Len6: 64},
		{Pos: 34, Mechanism: spf.IP6, Value: "2001:db8::", Prefix: netip.MustParsePrefix("2001:db8::/32"), Len4: -1, Len6: 32},
		{Pos: 52, Modifier: spf.Redirect, Value: "%{d}.example.net", Len4: -1, Len6: -1},
	}
	if len(r.Terms) != len(want) {
		t.Fatalf("Parse: %d terms; want %d", len(r.Terms), len(want))
	}
	for i := range want {
		if r.Terms[i] != want[i] {
			t.Errorf("term %d = %+v; want %+v", i, r.Terms[i], want[i])
		}
	}
	if got := r.Lookups(); got != 2 {
		t.Errorf("Lookups() = %d; want 2", got)
	}
	if red, ok := r.Modifier(spf.Redirect); !ok || red.Value != "%{d}.example.net" {
		t.Errorf("Modifier(redirect) = %+v, %v", red, ok)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		errs []string // the terms in error (their positions are computed)
	}{
		{"v=spf10", []string{"v=spf10"}},
		{"spf1 -all", []string{"spf1"}},
		{"v=spf1 -all.", []string{"-all."}},
		{"v=spf1 -all:foobar", []string{"-all:foobar"}},
		{"v=spf1 ip4:1.2.3.4 -all moo", []string{"moo"}},
		{"v=spf1 moo.cow/far_out=man:dog/cat", []string{"moo.cow/far_out=man:dog/cat"}},
		{"v=spf1 redirect:t2.example.com", []string{"redirect:t2.example.com"}},
		{"v=spf1 a:foo-bar a:museum. a:abc.123 a:-bad.-x a:xn--zckzah.xn--zckzah", []string{"a:foo-bar", "a:museum.", "a:abc.123", "a:-bad.-x"}},
		{"v=spf1 a/33 a//129 ip4:1.2.3.4/08 ip6:::1/129 a/ mx:x.com/24/", []string{"a/33", "a//129", "ip4:1.2.3.4/08", "ip6:::1/129", "a/", "mx:x.com/24/"}},
		{"v=spf1 ip4:1.2.3 ip6:1.2.3.4 ip4:::1 ip4", []string{"ip4:1.2.3", "ip6:1.2.3.4", "ip4:::1", "ip4"}},
		{"v=spf1 redirect=a.example.com redirect=b.example.com exp=c.example.com exp=d.example.com", []string{"redirect=b.example.com", "exp=d.example.com"}},
		{"v=spf1 exists:%{c}.example.com include:%{x}.example.com a:%{d0}.example.com exp=", []string{"exists:%{c}.example.com", "include:%{x}.example.com", "a:%{d0}.example.com", "exp="}},
		{"v=spf1 -redirect=x.example.com 1x=y", []string{"-redirect=x.example.com", "1x=y"}},
		{"v=spf1 a:ctrl.example.com\rptr a:caf\xc3\xa9.example.com", []string{"a:ctrl.example.com\rptr", "a:caf\xc3\xa9.example.com"}},
		{"v=spf1 ptr:", []string{"ptr:"}},
		{"v=spf1 ptr/0", []string{"ptr/0"}},
	}
	for _, tt := range tests {
		_, err := spf.Parse(tt.in)
		var pe *spf.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v; want a *ParseError", tt.in, err)
			continue
		}
		var got, want []string
		for _, se := range pe.Errs {
			got = append(got, itoa(se.Pos)+":"+se.Term)
		}
		fields := fieldPositions(tt.in)
		for _, term := range tt.errs {
			want = append(want, itoa(fields[term])+":"+term)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Parse(%q) errors = %q; want %q\n%v", tt.in, got, want, err)
		}
		if !errors.Is(err, spf.ErrSyntax) {
			t.Errorf("Parse(%q) error is not ErrSyntax", tt.in)
		}
	}
	if _, err := spf.Parse("v=spf10"); !errors.Is(err, spf.ErrNotSPF) {
		t.Errorf("Parse(%q) error = %v; want ErrNotSPF", "v=spf10", err)
	}
}

// fieldPositions maps each space-separated field of s to its offset.
func fieldPositions(s string) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		j := strings.IndexByte(s[i:], ' ')
		if j < 0 {
			j = len(s) - i
		}
		m[s[i:i+j]] = i
		i += j
	}
	return m
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestParsePartialRecord(t *testing.T) {
	t.Parallel()
	r, err := spf.Parse("v=spf1 ip4:192.0.2.1 bogus include:_spf.example.com -all")
	if err == nil || r == nil {
		t.Fatalf("Parse = %v, %v; want the valid terms and an error", r, err)
	}
	if got, want := r.String(), "v=spf1 ip4:192.0.2.1 include:_spf.example.com -all"; got != want {
		t.Errorf("partial record = %q; want %q", got, want)
	}
}

func TestTermConstructors(t *testing.T) {
	t.Parallel()
	r := &spf.Record{}
	r.Terms = append(r.Terms,
		spf.IPTerm(netip.MustParsePrefix("192.0.2.0/24")),
		spf.IPTerm(netip.MustParsePrefix("192.0.2.7/32")),
		spf.IPTerm(netip.MustParsePrefix("2001:db8::/48")),
		spf.IPTerm(netip.MustParsePrefix("::ffff:192.0.2.0/120")),
		spf.IncludeTerm("_spf.platform.example"),
		spf.Term{Qualifier: spf.QualifierSoftFail, Mechanism: spf.All, Len4: -1, Len6: -1},
	)
	want := "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.7 ip6:2001:db8::/48 ip4:192.0.2.0/24 include:_spf.platform.example ~all"
	if got := r.String(); got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	back, err := spf.Parse(want)
	if err != nil || back.String() != want {
		t.Errorf("Parse(String()) = %v, %v", back, err)
	}
	if got := back.Lookups(); got != 1 {
		t.Errorf("Lookups() = %d; want 1", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24//64 ptr:%{d} include:x.example.com ~all",
		"v=spf1 exists:%{ir}.%{l1r-}.%{d}.bl.example.net redirect=_spf.example.com exp=exp.%{d}",
		"v=spf1 a:foo-bar -all. moo redirect:x",
		"v=spf1 " + strings.Repeat("%{d9r.}", 50),
		"v=spf1 " + strings.Repeat("a ", 500),
		"v=spf1 a//129 ip4:1.2.3.4/08 ip6:::1/129",
		// Hostile: 64 KiB records of spaces, of terms, of one term, and
		// deeply nested or unterminated macros.
		"v=spf1" + strings.Repeat(" ", 64<<10),
		"v=spf1" + strings.Repeat(" a", 32<<10),
		"v=spf1 exists:" + strings.Repeat("%{d9999r-.+,/_=}", 4<<10) + ".example.com",
		"v=spf1 a:" + strings.Repeat("%{", 32<<10),
		"v=spf1 include:" + strings.Repeat("%{%{%{l}}}", 6<<10),
		"v=spf1 x=" + strings.Repeat("%%%_%-", 10<<10),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := spf.Parse(s)
		// Memory: the terms take one slot per field of the record, never
		// one per octet.
		if fields := len(strings.FieldsFunc(s, func(c rune) bool { return c == ' ' })); r != nil && cap(r.Terms) > fields {
			t.Fatalf("Parse(%.40q): %d term slots for %d fields", s, cap(r.Terms), fields)
		}
		if err != nil {
			var pe *spf.ParseError
			if !errors.As(err, &pe) || len(pe.Errs) == 0 {
				t.Fatalf("Parse(%q) error = %v; want a *ParseError with errors", s, err)
			}
			for _, se := range pe.Errs {
				if se.Pos < 0 || se.Pos > len(s) || !strings.HasPrefix(s[se.Pos:], se.Term) {
					t.Fatalf("Parse(%q): error %v does not point at its term", s, se)
				}
			}
			return
		}
		// A valid record prints as a record that parses to the same terms.
		out := r.String()
		r2, err := spf.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, out, err)
		}
		if r2.String() != out {
			t.Fatalf("String not stable: %q then %q", out, r2.String())
		}
		if len(r2.Terms) != len(r.Terms) {
			t.Fatalf("Parse(%q): %d terms, reparsed %d", s, len(r.Terms), len(r2.Terms))
		}
	})
}
