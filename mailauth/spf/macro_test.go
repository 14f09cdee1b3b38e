package spf

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// newEval returns an evaluation as CheckHost sets it up, for macro tests.
func newEval(t testing.TB, ip, sender, domain string, res Resolver) *evaluation {
	t.Helper()
	if res == nil {
		res = mailauthtest.NewResolver(nil)
	}
	c, err := New(Config{Resolver: res, Receiver: "mx.receiver.example", Clock: fixedClock(time.Unix(1_700_000_000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	e := &evaluation{c: c, ctx: context.Background(), ip: netip.MustParseAddr(ip).Unmap(), helo: "helo.example.org", curDomain: domain}
	e.local, e.senderDomain = splitSender(sender, domain)
	return e
}

// TestExpandRFCExamples checks the examples of RFC 7208 section 7.4.
func TestExpandRFCExamples(t *testing.T) {
	t.Parallel()
	e := newEval(t, "192.0.2.3", "strong-bad@email.example.com", "email.example.com", nil)
	tests := []struct{ in, want string }{
		{"%{s}", "strong-bad@email.example.com"},
		{"%{o}", "email.example.com"},
		{"%{d}", "email.example.com"},
		{"%{d4}", "email.example.com"},
		{"%{d3}", "email.example.com"},
		{"%{d2}", "example.com"},
		{"%{d1}", "com"},
		{"%{dr}", "com.example.email"},
		{"%{d2r}", "example.email"},
		{"%{l}", "strong-bad"},
		{"%{l-}", "strong.bad"},
		{"%{lr}", "strong-bad"},
		{"%{lr-}", "bad.strong"},
		{"%{l1r-}", "strong"},
		{"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{"%%%_%-", "% %20"},
		{"%{h}", "helo.example.org"},
		{"%{S}", "strong-bad%40email.example.com"},
		{"%{L}=%{l=}", "strong-bad=strong-bad"},
		{"%{d9999999999999999999}", "email.example.com"},
		{"%{l-+,/_=}", "strong.bad"},
		{"no macros", "no macros"},
		{"%{c} %{r} %{t}", "192.0.2.3 mx.receiver.example 1700000000"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, e, true)
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	e6 := newEval(t, "2001:db8::cb01", "strong-bad@email.example.com", "email.example.com", nil)
	want := "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
	if got, err := expand("%{ir}.%{v}._spf.%{d2}", e6, false); err != nil || !strings.EqualFold(got, want) {
		t.Errorf("expand(IPv6 example) = %q, %v; want %q (any case)", got, err, want)
	}
}

func TestMacroSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		exp  bool
		want string // substring of the message; empty: valid
	}{
		{"%{d}", false, ""},
		{"%{c}", false, "outside an explanation"},
		{"%{c}", true, ""},
		{"%{x}", true, "invalid macro letter"},
		{"%{d0}", false, "zero DIGIT"},
		{"%{d1r.}", false, ""},
		{"%{d1r!}", false, "invalid delimiter"},
		{"%{d", false, "unterminated"},
		{"%{}", false, "missing macro letter"},
		{"%", false, "at the end"},
		{"%x", false, "invalid macro"},
		{"a b", false, "invalid character"},
		{"a b", true, ""},
		{"caf\xc3\xa9", true, "invalid character"},
	}
	for _, tt := range tests {
		got := checkMacroString(tt.in, tt.exp)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("checkMacroString(%q, %v) = %q; want %q", tt.in, tt.exp, got, tt.want)
		}
	}
}

func TestExpandPMacro(t *testing.T) {
	t.Parallel()
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"3.2.0.192.in-addr.arpa": {mailauthtest.PTR("other.example.net"), mailauthtest.PTR("mx.example.com"), mailauthtest.PTR("liar.example.com")},
		"mx.example.com":         {mailauthtest.A("192.0.2.3")},
		"other.example.net":      {mailauthtest.A("192.0.2.3")},
		"liar.example.com":       {mailauthtest.A("192.0.2.99")},
	})
	e := newEval(t, "192.0.2.3", "a@example.com", "example.com", res)
	if got, _ := expand("%{p}", e, false); got != "mx.example.com" {
		t.Errorf("expand(%%{p}) = %q; want the validated subdomain mx.example.com", got)
	}
	e = newEval(t, "192.0.2.4", "a@example.com", "example.com", res)
	if got, _ := expand("%{p}", e, false); got != "unknown" {
		t.Errorf("expand(%%{p}) without PTR = %q; want unknown", got)
	}
}

// TestExpandBounded checks that hostile macro-strings cannot make expansion
// use unbounded memory.
func TestExpandBounded(t *testing.T) {
	t.Parallel()
	e := newEval(t, "192.0.2.3", strings.Repeat("x", 200)+"@example.com", "example.com", nil)
	in := strings.Repeat("%{S}", 5000)
	if _, err := expand(in, e, false); !errors.Is(err, ErrExpansion) {
		t.Errorf("expand(5000 x %%{S}) error = %v; want ErrExpansion", err)
	}
	many := strings.Repeat("a.", 3000) + "b"
	e.curDomain = many
	got, err := expand("%{d2r}", e, false)
	if err != nil || len(got) > MaxExpansion {
		t.Errorf("expand(%%{d2r}) over 3001 labels: len %d, %v", len(got), err)
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"%{d}", "%{ir}.%{v}._spf.%{d2}", "%{l1r-}", "%%%_%-", "%{S}%{L}%{O}",
		"%{d0}", "%{", "%{d999999999999999999999r+-.,/_=}", "%{c}%{r}%{t}%{p}%{h}",
		strings.Repeat("%{s}", 100),
		// Hostile: deep nesting, 64 KiB of macros, transformers that
		// split every octet.
		strings.Repeat("%{", 32<<10) + strings.Repeat("}", 32<<10),
		strings.Repeat("%{S}", 16<<10),
		strings.Repeat("%{d1r.-+,/_=}", 5<<10),
		strings.Repeat("%%", 32<<10),
	} {
		f.Add(s, "local-part@example.com", "a.b.c.d.example.com", true)
	}
	e := newEval(f, "2001:db8::1", "x@example.com", "example.com", nil)
	f.Fuzz(func(t *testing.T, s, sender, domain string, exp bool) {
		if len(s) > 1<<16 || len(sender) > 1<<12 || len(domain) > 1<<12 {
			return
		}
		e.local, e.senderDomain = splitSender(sender, domain)
		e.curDomain, e.helo = domain, domain
		valid := checkMacroString(s, exp) == ""
		got, err := expand(s, e, exp)
		if err == nil && len(got) > MaxExpansion {
			t.Errorf("expand(%q) produced %d octets", s, len(got))
		}
		if !valid && strings.Contains(s, "%") && err == nil {
			t.Errorf("expand(%q) of an invalid macro-string succeeded", s)
		}
	})
}

// TestExpandManyParts checks the transformers of RFC 7208 section 7.3 on
// values with more parts than any fixed table would hold: they keep their
// meaning whatever the number of parts.
func TestExpandManyParts(t *testing.T) {
	t.Parallel()
	parts := make([]string, 1500)
	for i := range parts {
		parts[i] = "p" + strings.Repeat("x", i%3)
	}
	parts[0], parts[1], parts[1498], parts[1499] = "first", "second", "penult", "last"
	e := newEval(t, "192.0.2.3", strings.Join(parts, "-")+"@example.com", "example.com", nil)
	tests := []struct{ in, want string }{
		{"%{l1-}", "last"},
		{"%{l2-}", "penult.last"},
		{"%{l1r-}", "first"},
		{"%{l2r-}", "second.first"},
		{"%{L1r-}", "first"},
		{"%{l1r+}", strings.Join(parts, "-")}, // no '+' in the value: one part
	}
	for _, tt := range tests {
		got, err := expand(tt.in, e, false)
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) over 1500 parts = %.40q, %v; want %.40q", tt.in, got, err, tt.want)
		}
	}
}

// BenchmarkExpandHostile expands 64 KiB macro-strings built to cost: the
// work stops at MaxExpansion octets of output.
func BenchmarkExpandHostile(b *testing.B) {
	e := newEval(b, "2001:db8::1", strings.Repeat("x.", 500)+"@example.com", "example.com", nil)
	for name, s := range map[string]string{
		"upper":   strings.Repeat("%{S}", 16<<10),
		"split":   strings.Repeat("%{l1r.-+,/_=}", 5<<10),
		"nesting": strings.Repeat("%{", 32<<10) + strings.Repeat("}", 32<<10),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				expand(s, e, false)
			}
		})
	}
}
