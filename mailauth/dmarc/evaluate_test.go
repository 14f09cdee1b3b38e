package dmarc_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// zones is the DNS the evaluation tests run against, on a real DNS server
// on loopback.
var zones = mailauthtest.Zones{
	// Exact domain, with sp and np distinct from p.
	"_dmarc.policy.example": {mailauthtest.TXT("v=DMARC1; p=none; sp=quarantine; np=reject")},
	"policy.example":        {mailauthtest.A("192.0.2.10")},
	"exists.policy.example": {mailauthtest.A("192.0.2.11")},
	"mx.policy.example":     {mailauthtest.MX(10, "mail.policy.example")},
	"txt.policy.example":    {mailauthtest.TXT("only text")},
	"slow.policy.example":   {mailauthtest.Timeout()},

	// A plain organizational domain.
	"_dmarc.example.com":     {mailauthtest.TXT("v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com")},
	"example.com":            {mailauthtest.A("192.0.2.1")},
	"news.example.com":       {mailauthtest.A("192.0.2.2")},
	"_dmarc.two.example.com": {mailauthtest.TXT("v=DMARC1; p=none"), mailauthtest.TXT("v=DMARC1; p=reject")},
	"two.example.com":        {mailauthtest.A("192.0.2.3")},
	// A record in strings, joined by the resolver (RFC 7489 section 6.6.3).
	"_dmarc.split.example.com": {mailauthtest.TXT("v=DMARC1; ", "p=quarantine")},

	// Multi-label public suffix.
	"_dmarc.example.co.uk": {mailauthtest.TXT("v=DMARC1; p=quarantine; sp=reject")},
	"news.example.co.uk":   {mailauthtest.A("192.0.2.4")},

	// RFC 9989 appendix B.4.3: a public suffix operator's record.
	"_dmarc.bank.example":       {mailauthtest.TXT("v=DMARC1; p=reject; psd=y")},
	"_dmarc.giant.bank.example": {mailauthtest.TXT("v=DMARC1; p=quarantine")},
	"giant.bank.example":        {mailauthtest.A("192.0.2.5")},
	"small.bank.example":        {mailauthtest.A("192.0.2.6")},

	// psd=y at the domain the walk starts from does not end the walk (RFC
	// 9989 section 4.10 step 2: only psd=n does there).
	"_dmarc.sub.corp.example": {mailauthtest.TXT("v=DMARC1; p=quarantine; psd=y")},
	"_dmarc.corp.example":     {mailauthtest.TXT("v=DMARC1; p=reject")},

	// psd=n below an organizational domain of the public suffix list.
	"_dmarc.dept.example.net": {mailauthtest.TXT("v=DMARC1; p=reject; psd=n")},
	"_dmarc.example.net":      {mailauthtest.TXT("v=DMARC1; p=none")},
	"x.dept.example.net":      {mailauthtest.A("192.0.2.7")},

	// An internationalized domain, published in A-label form.
	"_dmarc.xn--bcher-kva.example": {mailauthtest.TXT("v=DMARC1; p=reject")},

	// Strict alignment.
	"_dmarc.strict.example":  {mailauthtest.TXT("v=DMARC1; p=reject; aspf=s; adkim=s")},
	"_dmarc.relaxed.example": {mailauthtest.TXT("v=DMARC1; p=reject")},

	// Sampling and testing.
	"_dmarc.pct0.example":    {mailauthtest.TXT("v=DMARC1; p=reject; pct=0")},
	"_dmarc.pct0q.example":   {mailauthtest.TXT("v=DMARC1; p=quarantine; pct=0")},
	"_dmarc.pct50.example":   {mailauthtest.TXT("v=DMARC1; p=reject; pct=50")},
	"_dmarc.pct100.example":  {mailauthtest.TXT("v=DMARC1; p=reject; pct=100")},
	"_dmarc.testing.example": {mailauthtest.TXT("v=DMARC1; p=reject; t=y")},

	// Malformed records.
	"_dmarc.badp.example":    {mailauthtest.TXT("v=DMARC1; p=rejectt")},
	"_dmarc.badprua.example": {mailauthtest.TXT("v=DMARC1; p=rejectt; rua=mailto:d@badprua.example")},
	"_dmarc.nop.example":     {mailauthtest.TXT("v=DMARC1; adkim=s")},
	"_dmarc.noprua.example":  {mailauthtest.TXT("v=DMARC1; rua=mailto:d@noprua.example")},
	"_dmarc.nosemi.example":  {mailauthtest.TXT("v=DMARC1 p=reject")},
	"_dmarc.badsp.example":   {mailauthtest.TXT("v=DMARC1; p=reject; sp=quarantin")},
	"_dmarc.unknown.example": {mailauthtest.TXT("v=DMARC1; p=reject; future=yes; adkim=x")},

	// DNS failures.
	"_dmarc.timeout.example":            {mailauthtest.Timeout()},
	"_dmarc.parenttimeout.example":      {mailauthtest.Timeout()},
	"_dmarc.deep.parenttimeout.example": {mailauthtest.NoneOf(mailauthtest.TypeTXT)},
	"_dmarc.walk.example":               {mailauthtest.TXT("v=DMARC1; p=reject")},
	"_dmarc.slow.walk.example":          {mailauthtest.Timeout()},
	"_dmarc.attacker.com":               {mailauthtest.Timeout()},
}

// never is a Rand that fails the test: it must not be called.
func never(t *testing.T) func(int) int {
	return func(int) int { t.Error("Rand called; want no sampling"); return 0 }
}

func fixed(n int) func(int) int { return func(int) int { return n } }

func spfPass(domain string) dmarc.Input {
	return dmarc.Input{MailFrom: domain, SPF: authres.ResultPass}
}

func dkimPass(domain string) []dmarc.DKIMResult {
	return []dmarc.DKIMResult{{Domain: domain, Selector: "s1", Result: authres.ResultPass}}
}

type evalCase struct {
	name    string
	gen     dmarc.Generation
	in      dmarc.Input
	rand    func(int) int
	result  dmarc.Result
	disp    dmarc.Policy
	tag     string // the policy tag used, "" to skip the check
	domain  string // the policy domain, "" to skip the check
	queries []string
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, zones)
	res := srv.Resolver(t)
	fail := func(from string) dmarc.Input {
		return dmarc.Input{From: from, MailFrom: "attacker.invalid", SPF: authres.ResultPass}
	}
	with := func(in dmarc.Input, from string) dmarc.Input { in.From = from; return in }
	deep := "a.b.c.d.e.f.g.h.i.j.k.example.com"

	cases := []evalCase{
		// Discovery at the exact domain.
		{name: "exact/7489", gen: dmarc.RFC7489, in: fail("example.com"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "p", domain: "example.com",
			queries: []string{"example.com"}},
		{name: "exact/9989", gen: dmarc.RFC9989, in: fail("example.com"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "p", domain: "example.com",
			queries: []string{"example.com"}},
		{name: "joined strings", in: fail("split.example.com"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "p", domain: "split.example.com"},

		// Discovery at the organizational domain, multi-label suffix.
		{name: "co.uk/7489", gen: dmarc.RFC7489, in: fail("news.example.co.uk"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "sp", domain: "example.co.uk",
			queries: []string{"news.example.co.uk", "example.co.uk"}},
		{name: "co.uk/9989", gen: dmarc.RFC9989, in: fail("news.example.co.uk"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "sp", domain: "example.co.uk",
			queries: []string{"news.example.co.uk", "example.co.uk", "co.uk", "uk"}},
		{name: "co.uk relaxed spf/7489", gen: dmarc.RFC7489, in: with(spfPass("bounce.example.co.uk"), "news.example.co.uk"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "co.uk relaxed spf/9989", in: with(spfPass("bounce.example.co.uk"), "news.example.co.uk"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "co.uk sibling registrant/7489", gen: dmarc.RFC7489, in: with(spfPass("other.co.uk"), "news.example.co.uk"), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "co.uk sibling registrant/9989", in: with(spfPass("other.co.uk"), "news.example.co.uk"), result: dmarc.Fail, disp: dmarc.PolicyReject},

		// The RFC 9989 tree walk: deep subdomain, eight queries at most.
		{name: "deep/9989", in: fail(deep), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp", domain: "example.com",
			queries: []string{deep, "g.h.i.j.k.example.com", "h.i.j.k.example.com", "i.j.k.example.com", "j.k.example.com", "k.example.com", "example.com", "com"}},
		{name: "deep/7489", gen: dmarc.RFC7489, in: fail(deep), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp", domain: "example.com",
			queries: []string{deep, "example.com"}},

		// psd=y (RFC 9989 appendix B.4.3).
		{name: "psd own record spf aligned", in: dmarc.Input{From: "giant.bank.example", MailFrom: "mail.giant.bank.example", SPF: authres.ResultPass},
			result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "psd sibling dkim not aligned/9989", in: dmarc.Input{From: "giant.bank.example", DKIM: dkimPass("mail.mega.bank.example")},
			result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "p", domain: "giant.bank.example"},
		// The public suffix list does not list "example": bank.example is
		// an organizational domain to RFC 7489, so the sibling aligns.
		{name: "psd sibling dkim aligned/7489", gen: dmarc.RFC7489, in: dmarc.Input{From: "giant.bank.example", DKIM: dkimPass("mail.mega.bank.example")},
			result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "psd record applies/9989", in: fail("small.bank.example"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "p", domain: "bank.example",
			queries: []string{"small.bank.example", "bank.example"}},
		{name: "psd record applies deep/9989", in: fail("a.small.bank.example"), result: dmarc.Fail, disp: dmarc.PolicyReject, domain: "bank.example",
			queries: []string{"a.small.bank.example", "small.bank.example", "bank.example"}},

		{name: "psd=y at the start does not stop the walk", in: dmarc.Input{From: "sub.corp.example", DKIM: dkimPass("mail.corp.example")},
			result: dmarc.Pass, disp: dmarc.PolicyNone,
			queries: []string{"sub.corp.example", "corp.example", "example", "mail.corp.example"}},
		{name: "psd=y at the start, own policy", in: fail("sub.corp.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "p", domain: "sub.corp.example"},

		// psd=n makes a subdomain an organizational domain.
		{name: "psd=n/9989", in: fail("x.dept.example.net"), result: dmarc.Fail, disp: dmarc.PolicyReject, domain: "dept.example.net"},
		{name: "psd=n/7489", gen: dmarc.RFC7489, in: fail("x.dept.example.net"), result: dmarc.Fail, disp: dmarc.PolicyNone, domain: "example.net"},
		{name: "psd=n alignment/9989", in: dmarc.Input{From: "x.dept.example.net", MailFrom: "example.net", SPF: authres.ResultPass}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "psd=n alignment/7489", gen: dmarc.RFC7489, in: dmarc.Input{From: "x.dept.example.net", MailFrom: "example.net", SPF: authres.ResultPass}, result: dmarc.Pass, disp: dmarc.PolicyNone},

		// Relaxed and strict alignment, SPF and DKIM.
		{name: "spf relaxed", in: with(spfPass("bounce.relaxed.example"), "relaxed.example"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "spf strict subdomain", in: with(spfPass("bounce.strict.example"), "strict.example"), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "spf strict exact", in: with(spfPass("STRICT.example."), "strict.example"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "spf relaxed/7489", gen: dmarc.RFC7489, in: with(spfPass("bounce.relaxed.example"), "relaxed.example"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "spf strict/7489", gen: dmarc.RFC7489, in: with(spfPass("bounce.strict.example"), "strict.example"), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "spf null mailfrom uses helo", in: dmarc.Input{From: "relaxed.example", HELO: "mx.relaxed.example", SPF: authres.ResultPass}, result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "spf softfail aligned", in: dmarc.Input{From: "relaxed.example", MailFrom: "relaxed.example", SPF: authres.ResultSoftFail}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "dkim relaxed", in: dmarc.Input{From: "relaxed.example", DKIM: dkimPass("mail.relaxed.example")}, result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "dkim strict subdomain", in: dmarc.Input{From: "strict.example", DKIM: dkimPass("mail.strict.example")}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "dkim strict exact", in: dmarc.Input{From: "strict.example", DKIM: dkimPass("strict.example")}, result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "dkim strict/7489", gen: dmarc.RFC7489, in: dmarc.Input{From: "strict.example", DKIM: dkimPass("mail.strict.example")}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "dkim fail aligned", in: dmarc.Input{From: "relaxed.example", DKIM: []dmarc.DKIMResult{{Domain: "relaxed.example", Result: authres.ResultFail}}}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "dkim second signature aligns", in: dmarc.Input{From: "relaxed.example", DKIM: []dmarc.DKIMResult{
			{Domain: "esp.example", Result: authres.ResultPass}, {Domain: "relaxed.example", Result: authres.ResultPass}}}, result: dmarc.Pass, disp: dmarc.PolicyNone},

		// U-labels in the input are converted to A-labels for the
		// queries and for alignment.
		{name: "U-label author and DKIM domain", in: dmarc.Input{From: "Bücher.example", DKIM: dkimPass("mail.bücher.example")},
			result: dmarc.Pass, disp: dmarc.PolicyNone, domain: "xn--bcher-kva.example", queries: []string{"xn--bcher-kva.example", "example", "mail.xn--bcher-kva.example"}},
		{name: "U-label author fails", in: fail("bücher.example"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "p", domain: "xn--bcher-kva.example"},

		// p, sp and np.
		{name: "p", in: fail("policy.example"), result: dmarc.Fail, disp: dmarc.PolicyNone, tag: "p"},
		{name: "sp existing subdomain", in: fail("exists.policy.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp"},
		{name: "sp subdomain with only MX", in: fail("mx.policy.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp"},
		{name: "sp subdomain with only TXT", in: fail("txt.policy.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp"},
		{name: "np non-existent subdomain", in: fail("ghost.policy.example"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "np"},
		// Whether the author domain exists matters only for a failing
		// message: a DNS failure there cannot hide a pass.
		{name: "np existence unknown, aligned pass", in: dmarc.Input{From: "slow.policy.example", DKIM: dkimPass("policy.example")}, result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "np existence unknown, fail", in: fail("slow.policy.example"), result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "np unknown to 7489", gen: dmarc.RFC7489, in: fail("ghost.policy.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp"},
		{name: "p without sp for subdomain", in: fail("x.relaxed.example"), result: dmarc.Fail, disp: dmarc.PolicyReject, tag: "p", domain: "relaxed.example"},

		// pct (RFC 7489) and t (RFC 9989).
		{name: "pct=0 never applies reject", gen: dmarc.RFC7489, in: fail("pct0.example"), rand: fixed(0), result: dmarc.Fail, disp: dmarc.PolicyQuarantine},
		{name: "pct=0 never applies quarantine", gen: dmarc.RFC7489, in: fail("pct0q.example"), rand: fixed(0), result: dmarc.Fail, disp: dmarc.PolicyNone},
		{name: "pct=50 sampled", gen: dmarc.RFC7489, in: fail("pct50.example"), rand: fixed(49), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "pct=50 not sampled", gen: dmarc.RFC7489, in: fail("pct50.example"), rand: fixed(50), result: dmarc.Fail, disp: dmarc.PolicyQuarantine},
		{name: "pct=100", gen: dmarc.RFC7489, in: fail("pct100.example"), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "pct ignored by 9989", in: fail("pct0.example"), result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "pct=0 pass unaffected", gen: dmarc.RFC7489, in: with(spfPass("pct0.example"), "pct0.example"), result: dmarc.Pass, disp: dmarc.PolicyNone},
		{name: "t=y", in: fail("testing.example"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "p"},
		{name: "t ignored by 7489", gen: dmarc.RFC7489, in: fail("testing.example"), result: dmarc.Fail, disp: dmarc.PolicyReject},

		// No record, two records, malformed records.
		{name: "no record/9989", in: fail("nothing.example"), result: dmarc.None, disp: dmarc.PolicyNone, queries: []string{"nothing.example", "example"}},
		{name: "no record/7489", gen: dmarc.RFC7489, in: fail("nothing.example"), result: dmarc.None, disp: dmarc.PolicyNone, queries: []string{"nothing.example"}},
		{name: "two records/7489", gen: dmarc.RFC7489, in: fail("two.example.com"), result: dmarc.None, disp: dmarc.PolicyNone, queries: []string{"two.example.com"}},
		{name: "two records/9989", in: fail("two.example.com"), result: dmarc.Fail, disp: dmarc.PolicyQuarantine, tag: "sp", domain: "example.com"},
		{name: "invalid p", in: fail("badp.example"), result: dmarc.PermError, disp: dmarc.PolicyNone},
		{name: "invalid p/7489", gen: dmarc.RFC7489, in: fail("badp.example"), result: dmarc.PermError, disp: dmarc.PolicyNone},
		{name: "invalid p with rua", in: fail("badprua.example"), result: dmarc.Fail, disp: dmarc.PolicyNone},
		{name: "invalid sp", in: fail("badsp.example"), result: dmarc.PermError, disp: dmarc.PolicyNone},
		{name: "missing p/9989", in: fail("nop.example"), result: dmarc.Fail, disp: dmarc.PolicyNone, tag: "p"},
		{name: "missing p/7489", gen: dmarc.RFC7489, in: fail("nop.example"), result: dmarc.PermError, disp: dmarc.PolicyNone},
		{name: "missing p with rua/7489", gen: dmarc.RFC7489, in: fail("noprua.example"), result: dmarc.Fail, disp: dmarc.PolicyNone},
		{name: "no separator", in: fail("nosemi.example"), result: dmarc.None, disp: dmarc.PolicyNone},
		{name: "unknown tag and bad adkim ignored", in: dmarc.Input{From: "unknown.example", DKIM: dkimPass("mail.unknown.example")}, result: dmarc.Pass, disp: dmarc.PolicyNone},

		// DNS timeouts: temperror, never a reject.
		{name: "timeout/9989", in: fail("timeout.example"), result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "timeout/7489", gen: dmarc.RFC7489, in: fail("timeout.example"), result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "timeout in tree walk", in: fail("deep.parenttimeout.example"), result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "timeout in alignment walk", in: dmarc.Input{From: "walk.example", MailFrom: "slow.walk.example", SPF: authres.ResultPass}, result: dmarc.TempError, disp: dmarc.PolicyNone},
		// An identifier outside the author's organizational domain cannot
		// align: its DNS is not asked, so a sender cannot turn a fail into
		// a temperror with a domain whose DNS times out.
		{name: "timeout outside the organizational domain", in: dmarc.Input{From: "relaxed.example", MailFrom: "x.timeout.example", SPF: authres.ResultPass}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "timeout of the sender's own domain", in: dmarc.Input{From: "example.com", MailFrom: "attacker.com", SPF: authres.ResultPass, DKIM: dkimPass("attacker.com")},
			result: dmarc.Fail, disp: dmarc.PolicyReject, queries: []string{"example.com", "com"}},
		// Only an identifier that passed (or might have) needs its
		// alignment decided.
		{name: "timeout in alignment walk of a failing identifier", in: dmarc.Input{From: "walk.example", MailFrom: "slow.walk.example", SPF: authres.ResultFail}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "timeout in alignment walk of a failing signature", in: dmarc.Input{From: "walk.example", DKIM: []dmarc.DKIMResult{{Domain: "slow.walk.example", Result: authres.ResultFail}}}, result: dmarc.Fail, disp: dmarc.PolicyReject},
		{name: "timeout in alignment walk, signature temperror", in: dmarc.Input{From: "walk.example", DKIM: []dmarc.DKIMResult{{Domain: "slow.walk.example", Result: authres.ResultTempError}}}, result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "spf temperror aligned", in: dmarc.Input{From: "example.com", MailFrom: "example.com", SPF: authres.ResultTempError}, result: dmarc.TempError, disp: dmarc.PolicyNone},
		{name: "spf temperror and dkim pass", in: dmarc.Input{From: "example.com", MailFrom: "example.com", SPF: authres.ResultTempError, DKIM: dkimPass("example.com")}, result: dmarc.Pass, disp: dmarc.PolicyNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rnd := c.rand
			if rnd == nil {
				rnd = never(t)
			}
			e, err := dmarc.New(dmarc.Config{Resolver: res, Generation: c.gen, Rand: rnd})
			if err != nil {
				t.Fatal(err)
			}
			v, err := e.Evaluate(context.Background(), c.in)
			if err != nil {
				t.Fatalf("Evaluate(%q) error: %v", c.in.From, err)
			}
			if v.Result != c.result || v.Disposition != c.disp {
				t.Errorf("Evaluate(%q) = %s, disposition %s; want %s, disposition %s\n%v", c.in.From, v.Result, v.Disposition, c.result, c.disp, v)
			}
			if c.tag != "" && v.PolicyTag != c.tag {
				t.Errorf("Evaluate(%q).PolicyTag = %q; want %q\n%v", c.in.From, v.PolicyTag, c.tag, v)
			}
			if c.domain != "" && v.PolicyDomain != c.domain {
				t.Errorf("Evaluate(%q).PolicyDomain = %q; want %q\n%v", c.in.From, v.PolicyDomain, c.domain, v)
			}
			if c.queries != nil {
				var got []string
				for _, q := range v.Queries {
					got = append(got, q.Domain)
				}
				if strings.Join(got, " ") != strings.Join(c.queries, " ") {
					t.Errorf("Evaluate(%q) queried %q; want %q", c.in.From, got, c.queries)
				}
			}
			if v.Result == dmarc.TempError {
				if v.Err == nil {
					t.Errorf("Evaluate(%q).Err = nil; want the DNS failure", c.in.From)
				}
			}
			if len(v.Steps) == 0 {
				t.Errorf("Evaluate(%q).Steps is empty; want the reasons", c.in.From)
			}
		})
	}
}

func TestEvaluateTimeoutError(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, zones)
	e, err := dmarc.New(dmarc.Config{Resolver: srv.Resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Evaluate(context.Background(), dmarc.Input{From: "timeout.example"})
	if err != nil {
		t.Fatal(err)
	}
	var dnsErr *dmarc.DNSError
	if !errors.As(v.Err, &dnsErr) || dnsErr.Name != "_dmarc.timeout.example" {
		t.Errorf("Evaluate(timeout.example).Err = %v; want a *dmarc.DNSError for _dmarc.timeout.example", v.Err)
	}
	if !strings.Contains(v.String(), "temperror") {
		t.Errorf("Verdict.String() = %q; want it to say temperror", v.String())
	}
}

func TestEvaluateInvalidInput(t *testing.T) {
	t.Parallel()
	e, err := dmarc.New(dmarc.Config{Resolver: mailauthtest.NewResolver(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"", "exa mple.com", "a..b", strings.Repeat("a", 64) + ".com"} {
		if _, err := e.Evaluate(context.Background(), dmarc.Input{From: from}); !errors.Is(err, dmarc.ErrInvalidDomain) {
			t.Errorf("Evaluate(%q) error = %v; want ErrInvalidDomain", from, err)
		}
	}
}

func TestNewRejectsUnknownGeneration(t *testing.T) {
	t.Parallel()
	if _, err := dmarc.New(dmarc.Config{Generation: 7}); err == nil || !strings.Contains(err.Error(), "Config.Generation") {
		t.Errorf("New(Generation: 7) error = %v; want one naming Config.Generation", err)
	}
}

// One Evaluator serves many goroutines (run with -race).
func TestEvaluateConcurrent(t *testing.T) {
	t.Parallel()
	e, err := dmarc.New(dmarc.Config{Resolver: mailauthtest.NewResolver(zones), Generation: dmarc.RFC7489, Rand: fixed(10)})
	if err != nil {
		t.Fatal(err)
	}
	froms := []string{"example.com", "news.example.co.uk", "giant.bank.example", "pct50.example", "ghost.policy.example"}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			from := froms[i%len(froms)]
			v, err := e.Evaluate(context.Background(), dmarc.Input{From: from, MailFrom: "attacker.invalid", SPF: authres.ResultPass})
			switch {
			case err != nil:
				errs <- err
			case v.Result != dmarc.Fail:
				errs <- errors.New(from + ": " + string(v.Result))
			default:
				errs <- nil
			}
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Evaluate: %v; want fail", err)
		}
	}
}

func TestIdentifierString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   dmarc.Identifier
		want string
	}{
		{dmarc.Identifier{Method: "spf", Domain: "example.com", Result: authres.ResultPass, Aligned: true, Why: "identical to the author domain"},
			"spf example.com: pass, aligned (identical to the author domain)"},
		{dmarc.Identifier{Method: "dkim", Domain: "esp.example", Result: authres.ResultPass, Why: "relaxed, but the domains share no organizational domain"},
			"dkim esp.example: pass, not aligned (relaxed, but the domains share no organizational domain)"},
		{dmarc.Identifier{Method: "spf", Domain: "x.example", Err: errors.New("dmarc: temporary DNS failure")},
			"spf x.example: none, alignment undecided: dmarc: temporary DNS failure"},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("Identifier.String() = %q; want %q", got, tt.want)
		}
	}
}

// The error names the input and its field, with the package prefix once.
func TestEvaluateInvalidInputMessage(t *testing.T) {
	t.Parallel()
	e, err := dmarc.New(dmarc.Config{Resolver: mailauthtest.NewResolver(nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Evaluate(context.Background(), dmarc.Input{From: "exa mple.com"})
	if want := `dmarc: invalid domain name "exa mple.com": idna: disallowed rune U+0020 (Input.From)`; err == nil || err.Error() != want {
		t.Errorf("Evaluate(%q) error = %v; want %q", "exa mple.com", err, want)
	}
}
