package mailauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// PreflightConfig configures a [Preflight]. Its zero value works.
//
// NewPreflight copies it.
type PreflightConfig struct {
	// Resolver answers the SPF, DKIM key and DMARC queries. Nil means
	// net.DefaultResolver.
	Resolver Resolver
	// MeterProvider gives the metrics of the SPF checks and DMARC
	// evaluations it runs (alertmail.spf.checks, alertmail.dmarc.evaluations).
	// Nil means none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives those checks their spans (alertmail.spf.check
	// with its lookup count, alertmail.dmarc.evaluate) within a recording
	// span of the caller's. Nil means none, the no-op provider; never the
	// global one.
	TracerProvider trace.TracerProvider
	// Logger receives the Debug records of the checks. Nil means none, quiet.
	Logger *slog.Logger
}

// A Preflight answers, without sending anything, "will this message pass
// DMARC at the recipient's gateway, and if not, why and what would fix
// it?", for both generations of receivers (RFC 7489 and RFC 9989). It is
// safe for concurrent use.
//
// Create one with NewPreflight; the zero value is not usable.
type Preflight struct {
	res     Resolver
	spf     *spf.Checker
	dkim    *dkim.Verifier
	rfc7489 *dmarc.Evaluator
	rfc9989 *dmarc.Evaluator
}

// NewPreflight returns a Preflight for cfg.
func NewPreflight(cfg PreflightConfig) (*Preflight, error) {
	res := cfg.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	return newPreflight(res, observability{cfg.MeterProvider, cfg.TracerProvider, cfg.Logger})
}

// newPreflight returns a Preflight asking res, its checks reporting to obs.
func newPreflight(res Resolver, obs observability) (*Preflight, error) {
	// A preflight assumes the worst case of pct sampling: a failing message
	// is sampled whenever pct > 0 (pct=0 still never applies the policy).
	worst := func(int) int { return 0 }
	c7489, err := newChecks(res, dmarc.RFC7489, worst, obs)
	if err != nil {
		return nil, err
	}
	rfc9989, err := dmarc.New(obs.dmarcConfig(res, dmarc.RFC9989, worst))
	if err != nil {
		return nil, fmt.Errorf("mailauth: %w", err)
	}
	return &Preflight{res: res, spf: c7489.spf, dkim: c7489.dkim, rfc7489: c7489.dmarc, rfc9989: rfc9989}, nil
}

// PreflightInput describes a message about to be sent. Domains (in From,
// MailFrom, HELO and DKIM) may have U-labels; they are checked, and
// reported, in A-label form.
//
// The zero value is not enough: From (or Message) and IP are required; every
// other field may be empty. Check does not modify it.
type PreflightInput struct {
	// From is the RFC5322.From header field value ("Alerts
	// <alerts@example.com>") or just the author domain. When empty, the
	// From header field of Message is used.
	From string
	// Message is the message itself (header and body), optional. The
	// DKIM signatures it already carries are verified, as a receiver
	// would.
	Message []byte
	// IP is the address the message will leave from.
	IP netip.Addr
	// MailFrom is the envelope sender (RFC5321.MailFrom), an address or a
	// domain; empty for the null reverse-path.
	MailFrom string
	// HELO is the name the sending host gives in EHLO.
	HELO string
	// DKIM lists how the message will be signed: one entry per signature.
	DKIM []Signing
}

// Signing is one DKIM signature a message will carry.
//
// It is plain data; the zero value, a signature with no domain, is
// refused by Check.
type Signing struct {
	// Domain is the signing domain (d=).
	Domain string
	// Selector, when set, is checked: the key must be published at
	// <Selector>._domainkey.<Domain>. When empty the signature is assumed
	// to verify.
	Selector string
}

// A PreflightDKIM is the expected DKIM result of one planned signature.
//
// It is plain data; the zero value is a planned signature with no result.
type PreflightDKIM struct {
	// Domain is the signing domain (d=) and Selector the selector (s=).
	Domain, Selector string
	// Result is, for a planned signature, pass when the key is published
	// (or not checked), permerror when no key record is found, temperror
	// when the lookup failed; for a signature the Message carries, the
	// verification result.
	Result authres.ResultValue
	// InMessage reports whether the signature is one the Message carries,
	// rather than a planned one.
	InMessage bool
	// Note says what was found: at the key's name, or by verification.
	Note string
}

// String returns the result on one line: "d=example.com s=s1: pass (key
// published at s1._domainkey.example.com)".
func (d PreflightDKIM) String() string {
	return fmt.Sprintf("d=%s s=%s: %s (%s)", d.Domain, orDash(d.Selector), d.Result, d.Note)
}

// A PreflightReport is the preflight's answer. It is data for a UI and
// prints as a report for a log (String).
//
// It is plain data, owned by the caller; the verdicts it points to are not
// shared.
type PreflightReport struct {
	// AuthorDomain is the domain of the From address.
	AuthorDomain string
	// SPF is the SPF check of the envelope sender (or HELO), with its tree
	// of records; SPFDomain is the identity checked.
	SPF       *spf.Explanation
	SPFDomain string
	// DKIM is the expected result of each planned signature.
	DKIM []PreflightDKIM
	// RFC7489 and RFC9989 are the verdicts of the two generations of
	// receivers.
	RFC7489 *dmarc.Verdict
	RFC9989 *dmarc.Verdict
	// Differ reports whether the two generations reach a different result
	// or disposition.
	Differ bool
	// Fixes says what would make the message pass, when it does not pass
	// under both generations.
	Fixes []string
}

// Pass reports whether DMARC passes under both generations.
func (r *PreflightReport) Pass() bool {
	return r.RFC7489.Result == dmarc.Pass && r.RFC9989.Result == dmarc.Pass
}

// Delivered reports whether no receiver of either generation would
// quarantine or reject the message for DMARC: it passes, or the policy
// asks for nothing.
func (r *PreflightReport) Delivered() bool {
	return r.RFC7489.Disposition == dmarc.PolicyNone && r.RFC9989.Disposition == dmarc.PolicyNone
}

// String prints the report: the answer, the SPF tree, the DKIM results,
// each generation's verdict with its steps, and the fixes.
func (r *PreflightReport) String() string {
	var b strings.Builder
	switch {
	case r.Pass():
		fmt.Fprintf(&b, "DMARC preflight for %s: pass with both RFC 7489 and RFC 9989 receivers\n", r.AuthorDomain)
	case r.Differ:
		fmt.Fprintf(&b, "DMARC preflight for %s: receivers disagree: RFC 7489 %s (disposition %s), RFC 9989 %s (disposition %s)\n",
			r.AuthorDomain, r.RFC7489.Result, r.RFC7489.Disposition, r.RFC9989.Result, r.RFC9989.Disposition)
	default:
		fmt.Fprintf(&b, "DMARC preflight for %s: %s, disposition %s, with both RFC 7489 and RFC 9989 receivers\n",
			r.AuthorDomain, r.RFC9989.Result, r.RFC9989.Disposition)
	}
	fmt.Fprintf(&b, "\nSPF for %s: %s", r.SPFDomain, r.SPF)
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	if len(r.DKIM) == 0 {
		b.WriteString("\nDKIM: no signature planned\n")
	} else {
		b.WriteString("\nDKIM:\n")
		for _, d := range r.DKIM {
			fmt.Fprintf(&b, "  %v\n", d)
		}
	}
	fmt.Fprintf(&b, "\n%v\n\n%v\n", r.RFC7489, r.RFC9989)
	if len(r.Fixes) > 0 {
		b.WriteString("\nTo fix:\n")
		for _, f := range r.Fixes {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ErrPreflightInput is wrapped by the errors Check returns for input it
// cannot evaluate.
var ErrPreflightInput = errors.New("mailauth: invalid preflight input")

// Check runs the preflight. DNS failures are reported in the report as
// temperror results; the error is non-nil only for input that cannot be
// evaluated (no usable From, no IP).
func (p *Preflight) Check(ctx context.Context, in PreflightInput) (*PreflightReport, error) {
	in, author, err := checkInput(in)
	if err != nil {
		return nil, err
	}
	r := &PreflightReport{AuthorDomain: author}
	spfResult, x := p.spf.CheckMailFrom(ctx, in.IP, in.MailFrom, in.HELO)
	r.SPF = x
	r.SPFDomain = envelopeDomain(in.MailFrom)
	if r.SPFDomain == "" {
		r.SPFDomain = in.HELO
	}
	if r.DKIM, err = p.dkimResults(ctx, in); err != nil {
		return nil, err
	}
	dm := dmarc.Input{From: author, MailFrom: envelopeDomain(in.MailFrom), HELO: in.HELO, SPF: authres.ResultValue(spfResult)}
	for _, d := range r.DKIM {
		dm.DKIM = append(dm.DKIM, dmarc.DKIMResult{Domain: d.Domain, Selector: d.Selector, Result: d.Result})
	}
	if r.RFC7489, err = p.rfc7489.Evaluate(ctx, dm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPreflightInput, err)
	}
	if r.RFC9989, err = p.rfc9989.Evaluate(ctx, dm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPreflightInput, err)
	}
	r.Differ = r.RFC7489.Result != r.RFC9989.Result || r.RFC7489.Disposition != r.RFC9989.Disposition
	r.Fixes = fixes(r, in, spfResult)
	return r, nil
}

// checkInput validates in and returns it with its domains in A-labels (a
// copy: the caller's DKIM slice is not modified), and the author domain.
// The error, matching ErrPreflightInput, names the bad field.
func checkInput(in PreflightInput) (PreflightInput, string, error) {
	from := in.From
	if from == "" && len(in.Message) > 0 {
		from = headerValue(in.Message, "From")
	}
	author, err := preflightAuthor(from)
	if err != nil {
		return in, "", fmt.Errorf("%w: From %q: %v", ErrPreflightInput, from, err)
	}
	if !in.IP.IsValid() {
		return in, "", fmt.Errorf("%w: IP is not set", ErrPreflightInput)
	}
	// Internationalised names are taken as U-labels and checked as the
	// A-labels DNS holds, as the From domain is.
	mailFrom, err := asciiEnvelope(in.MailFrom)
	if err != nil {
		return in, "", fmt.Errorf("%w: MailFrom %q: %v", ErrPreflightInput, in.MailFrom, err)
	}
	helo, err := asciiHost(in.HELO)
	if err != nil {
		return in, "", fmt.Errorf("%w: HELO %q: %v", ErrPreflightInput, in.HELO, err)
	}
	in.MailFrom, in.HELO = mailFrom, helo
	in.DKIM = slices.Clone(in.DKIM)
	for i, s := range in.DKIM {
		if strings.TrimSpace(s.Domain) == "" {
			return in, "", fmt.Errorf("%w: DKIM[%d].Domain is empty", ErrPreflightInput, i)
		}
		if in.DKIM[i].Domain, err = asciiHost(s.Domain); err != nil {
			return in, "", fmt.Errorf("%w: DKIM[%d].Domain %q: %v", ErrPreflightInput, i, s.Domain, err)
		}
	}
	return in, author, nil
}

// dkimResults returns the DKIM result of each signature the message
// carries, verified, then of each planned one, its key looked up.
func (p *Preflight) dkimResults(ctx context.Context, in PreflightInput) ([]PreflightDKIM, error) {
	var out []PreflightDKIM
	if len(in.Message) > 0 {
		sigs, err := p.dkim.Verify(ctx, bytes.NewReader(in.Message))
		if err != nil {
			return nil, fmt.Errorf("%w: Message: %v", ErrPreflightInput, err)
		}
		for _, sg := range sigs {
			d := PreflightDKIM{Domain: sg.Domain, Selector: sg.Selector, Result: sg.Result, InMessage: true, Note: "signature in the message verifies"}
			if sg.Err != nil {
				d.Note = "signature in the message: " + strings.TrimPrefix(sg.Err.Error(), "dkim: ")
			}
			out = append(out, d)
		}
	}
	for _, s := range in.DKIM {
		out = append(out, p.checkKey(ctx, s))
	}
	return out, nil
}

// preflightAuthor takes the author domain from a From header value or a
// bare domain.
func preflightAuthor(from string) (string, error) {
	from = strings.TrimSpace(from)
	if from != "" && !strings.ContainsAny(from, "@<") {
		from = "postmaster@" + from
	}
	return dmarc.AuthorDomain(from)
}

// asciiHost converts a host or domain name to A-labels; an empty name and
// an address literal ("[192.0.2.1]") are returned as they are.
func asciiHost(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "[") {
		return name, nil
	}
	return domain.ToASCII(name)
}

// asciiEnvelope converts the domain of an envelope sender ("<a@b>", "a@b"
// or a bare domain) to A-labels, and drops the angle brackets: "<>", the
// null reverse-path, gives "".
func asciiEnvelope(mailFrom string) (string, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(mailFrom), "<"), ">")
	at := strings.LastIndexByte(inner, '@')
	a, err := asciiHost(inner[at+1:])
	if err != nil {
		return "", err
	}
	return inner[:at+1] + a, nil
}

// checkKey looks up the key record of a planned signature.
func (p *Preflight) checkKey(ctx context.Context, s Signing) PreflightDKIM {
	d := PreflightDKIM{Domain: strings.ToLower(strings.TrimSuffix(s.Domain, ".")), Selector: s.Selector, Result: authres.ResultPass}
	if s.Selector == "" {
		d.Note = "key not checked: no selector given"
		return d
	}
	name := s.Selector + "._domainkey." + d.Domain
	txts, err := p.res.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		d.Result, d.Note = authres.ResultPermError, "no key record at "+name
	case err != nil:
		d.Result, d.Note = authres.ResultTempError, "key lookup failed: "+err.Error()
	case len(txts) != 1:
		d.Result, d.Note = authres.ResultPermError, fmt.Sprintf("%d TXT records at %s; want exactly one key record (RFC 6376 section 3.6.2.2)", len(txts), name)
	case !hasKey(txts[0]):
		d.Result, d.Note = authres.ResultPermError, "the record at "+name+" has no public key (p= empty or missing: revoked)"
	default:
		d.Note = "key published at " + name
	}
	return d
}

// hasKey reports whether a DKIM key record has a non-empty p= tag.
func hasKey(txt string) bool {
	for tag := range strings.SplitSeq(txt, ";") {
		k, v, ok := strings.Cut(tag, "=")
		if ok && strings.TrimSpace(k) == "p" && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// fixes lists what would make the message pass under both generations.
func fixes(r *PreflightReport, in PreflightInput, spfResult spf.Result) []string {
	if r.Pass() {
		return nil
	}
	var out []string
	add := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, v := range []*dmarc.Verdict{r.RFC7489, r.RFC9989} {
		who := "" // the same advice serves both generations unless they differ
		if r.Differ {
			who = v.Generation.String() + " receivers, "
		}
		switch v.Result {
		case dmarc.None:
			add("no DMARC record applies to %s (%sDMARC does not apply): publish one at _dmarc.%s to protect the domain", r.AuthorDomain, who, orgOf(v))
		case dmarc.TempError:
			add("DMARC could not be evaluated (%sDNS failure: %v): check the DNS servers of the domains involved", who, v.Err)
		case dmarc.PermError:
			add("the DMARC record at _dmarc.%s is malformed (%sno valid rua either): fix its p, sp and np tags", v.PolicyDomain, who)
		case dmarc.Fail:
			spfFix(add, r, v, who, in, spfResult)
			dkimFix(add, r, v, who)
		}
	}
	return out
}

func orgOf(v *dmarc.Verdict) string {
	if v.OrgDomain != "" {
		return v.OrgDomain
	}
	return v.AuthorDomain
}

func spfFix(add func(string, ...any), r *PreflightReport, v *dmarc.Verdict, who string, in PreflightInput, res spf.Result) {
	id := r.SPFDomain
	aligned := alignedWith(v, id)
	switch {
	case res == spf.Pass && !aligned:
		add("SPF passes for %s, which is not aligned with %s (%saspf=%s): send with an envelope sender (MAIL FROM) in %s%s, whose SPF record authorises %s",
			id, r.AuthorDomain, who, v.Record.SPFAlignment, r.AuthorDomain, strictNote(v.Record.SPFAlignment), in.IP)
	case res != spf.Pass && aligned:
		add("SPF gives %s for %s: add %s to the SPF record of %s", res, id, ipMechanism(in.IP), id)
	case res != spf.Pass:
		add("SPF gives %s for %s, which is not aligned with %s anyway: use an envelope sender in %s and authorise %s in its SPF record", res, id, r.AuthorDomain, r.AuthorDomain, in.IP)
	}
}

func dkimFix(add func(string, ...any), r *PreflightReport, v *dmarc.Verdict, who string) {
	if len(r.DKIM) == 0 {
		add("sign with DKIM as d=%s%s and publish the key (a signature survives forwarding, SPF does not)", r.AuthorDomain, strictNote(v.Record.DKIMAlignment))
		return
	}
	for _, d := range r.DKIM {
		switch {
		case !alignedWith(v, d.Domain) && d.Domain != r.AuthorDomain:
			add("the DKIM signature d=%s is not aligned with %s (%sadkim=%s): sign as d=%s%s", d.Domain, r.AuthorDomain, who, v.Record.DKIMAlignment, r.AuthorDomain, strictNote(v.Record.DKIMAlignment))
		case d.Result != authres.ResultPass && d.InMessage:
			add("the message's DKIM signature d=%s s=%s does not verify (%s): sign the message as it is sent, with the key published at %s._domainkey.%s", d.Domain, d.Selector, d.Note, d.Selector, d.Domain)
		case d.Result != authres.ResultPass:
			add("DKIM d=%s s=%s would not verify (%s): publish the public key at %s._domainkey.%s", d.Domain, d.Selector, d.Note, d.Selector, d.Domain)
		}
	}
}

// alignedWith reports whether the verdict found id aligned with the author
// domain.
func alignedWith(v *dmarc.Verdict, id string) bool {
	id = strings.ToLower(strings.TrimSuffix(id, "."))
	if id == v.AuthorDomain {
		return true
	}
	for _, x := range v.Identifiers {
		if strings.EqualFold(strings.TrimSuffix(x.Domain, "."), id) && x.Aligned {
			return true
		}
	}
	return false
}

func strictNote(a dmarc.Alignment) string {
	if a == dmarc.AlignmentStrict {
		return " exactly (strict alignment)"
	}
	return " or a subdomain of its organizational domain"
}

func ipMechanism(ip netip.Addr) string {
	if ip.Is4() || ip.Is4In6() {
		return "ip4:" + ip.Unmap().String()
	}
	return "ip6:" + ip.String()
}
