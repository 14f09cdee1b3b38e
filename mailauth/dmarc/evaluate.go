package dmarc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// A Generation selects the DMARC specification an evaluation follows.
//
// The zero value is RFC9989.
type Generation int

const (
	// RFC9989 is DMARCbis, the current standard, and the zero value: the
	// DNS tree walk, psd, np and t.
	RFC9989 Generation = iota
	// RFC7489 is the original DMARC, still run by many receivers: the
	// public suffix list and pct.
	RFC7489
)

// String returns "RFC 9989" or "RFC 7489".
func (g Generation) String() string {
	switch g {
	case RFC9989:
		return "RFC 9989"
	case RFC7489:
		return "RFC 7489"
	}
	return fmt.Sprintf("Generation(%d)", int(g))
}

// A Result is the outcome of DMARC evaluation, with the names RFC 8601
// section 2.7.1 and RFC 7489 section 11.2 give it.
//
// The zero value is no result; Evaluate always sets one of the constants
// below.
type Result string

// The DMARC results.
const (
	// Pass: an authenticated identifier is aligned with the author domain.
	Pass Result = "pass"
	// Fail: a policy record applies and no authenticated identifier is
	// aligned.
	Fail Result = "fail"
	// None: no policy record applies, so DMARC does not apply.
	None Result = "none"
	// TempError: a DNS failure kept the evaluation from a result; the policy
	// is not applied.
	TempError Result = "temperror"
	// PermError: the policy record is unusable (a malformed policy and no
	// valid "rua"), so DMARC processing is not applied.
	PermError Result = "permerror"
)

// Config configures an [Evaluator]. Its zero value works.
//
// New copies it.
type Config struct {
	// Resolver answers the DNS queries. Nil means net.DefaultResolver.
	Resolver Resolver
	// Generation is the specification to follow. The zero value is RFC9989.
	Generation Generation
	// Rand returns a uniformly random int in [0, n); it samples messages
	// for the "pct" tag of RFC 7489. Nil means math/rand/v2.IntN. Tests
	// inject a fixed value.
	Rand func(n int) int
	// MeterProvider gives the evaluations' metric
	// (alertmail.dmarc.evaluations, by result and generation). Nil means
	// none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each evaluation a span
	// (alertmail.dmarc.evaluate) when the context carries a recording
	// span. Nil means none, the no-op provider; never the global one.
	TracerProvider trace.TracerProvider
	// Logger receives a Debug record of each verdict. Nil means none.
	Logger *slog.Logger
}

// An Evaluator evaluates DMARC for messages. It is safe for concurrent use
// if its Resolver and Rand are.
//
// Create one with New; the zero value is not usable.
type Evaluator struct {
	res  Resolver
	gen  Generation
	rand func(int) int
	tel  *telemetry // nil: none
}

// New returns an Evaluator for cfg, or an error naming the field that is
// invalid.
func New(cfg Config) (*Evaluator, error) {
	if cfg.Generation != RFC9989 && cfg.Generation != RFC7489 {
		return nil, fmt.Errorf("dmarc: Config.Generation: unknown generation %d", int(cfg.Generation))
	}
	e := &Evaluator{res: cfg.Resolver, gen: cfg.Generation, rand: cfg.Rand}
	if e.res == nil {
		e.res = net.DefaultResolver
	}
	if e.rand == nil {
		e.rand = rand.IntN
	}
	var err error
	if e.tel, err = newTelemetry(&cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// Generation returns the specification e follows.
func (e *Evaluator) Generation() Generation { return e.gen }

// Input is what DMARC evaluates: the author domain and the results of the
// SPF and DKIM checks of the message.
//
// The zero value is not enough: From is required; every other field may be
// empty. Evaluate does not modify it.
type Input struct {
	// From is the author domain, the domain of the RFC5322.From address;
	// [AuthorDomain] extracts it from the header field.
	From string
	// MailFrom is the domain of the RFC5321.MailFrom address; empty for the
	// null reverse-path, in which case the HELO name is the SPF identity
	// (RFC 7489 section 4.1, RFC 7208 section 2.4).
	MailFrom string
	// HELO is the name the client gave in HELO or EHLO.
	HELO string
	// SPF is the SPF result for that identity; empty means SPF was not
	// checked.
	SPF authres.ResultValue
	// DKIM holds one result per DKIM signature of the message.
	DKIM []DKIMResult
}

// spfDomain is the identity whose SPF result DMARC aligns.
func (in *Input) spfDomain() string {
	if in.MailFrom != "" {
		return in.MailFrom
	}
	return in.HELO
}

// A DKIMResult is the verification result of one DKIM signature.
//
// It is plain data; the zero value is a signature of no domain, which aligns
// with nothing.
type DKIMResult struct {
	Domain   string              // the d= tag, the signing domain
	Selector string              // the s= tag
	Result   authres.ResultValue // pass, fail, temperror, ...
}

// A Verdict is the outcome of one evaluation. It is data for a program and
// prints as a short report (String).
//
// The zero value is an empty verdict with no result. A Verdict is owned
// by the caller and not modified after Evaluate returns it, so concurrent
// reads are safe.
type Verdict struct {
	// Generation is the specification the evaluation followed.
	Generation Generation
	// AuthorDomain is the domain evaluated.
	AuthorDomain string
	// Result is the DMARC result.
	Result Result
	// Disposition is what the domain owner asks the receiver to do with the
	// message: PolicyNone unless Result is Fail.
	Disposition Policy
	// Policy is the policy the record sets for this author domain and the
	// tag it came from ("p", "sp" or "np"), before pct sampling or t=y;
	// empty when no record applies.
	Policy    Policy
	PolicyTag string
	// PolicyDomain is where the applied record was found, and Record is that
	// record; empty and nil when no record applies.
	PolicyDomain string
	Record       *Record
	// OrgDomain is the organizational domain of the author domain, when the
	// evaluation needed it.
	OrgDomain string
	// SPFAligned reports whether SPF passed for a domain aligned with the
	// author domain; DKIMAligned is the d= of the first valid signature
	// aligned with it, or empty.
	SPFAligned  bool
	DKIMAligned string
	// Identifiers lists the alignment check of each authenticated
	// identifier candidate: the SPF domain, then each DKIM signing domain.
	Identifiers []Identifier
	// Queries lists the DMARC record lookups, in order.
	Queries []*Query
	// Steps gives the reason for each step, citing the RFC.
	Steps []string
	// Err is the DNS failure behind a TempError result.
	Err error
}

// An Identifier is the alignment check of one SPF or DKIM identity.
//
// It is plain data, part of a Verdict.
type Identifier struct {
	// Method is "spf" or "dkim".
	Method string
	// Domain is the SPF domain (MAIL FROM, or HELO) or the DKIM d= domain.
	Domain string
	// Result is the SPF or DKIM result given in the Input.
	Result authres.ResultValue
	// Aligned reports whether Domain is aligned with the author domain,
	// whatever Result; Why says how that was decided.
	Aligned bool
	Why     string
	// Err is the DNS failure that left alignment undecided.
	Err error
}

// String returns the check on one line: "spf example.com: pass, aligned
// (identical to the author domain)".
func (id Identifier) String() string {
	s := fmt.Sprintf("%s %s: %s, ", id.Method, id.Domain, orNone(id.Result))
	switch {
	case id.Err != nil:
		s += "alignment undecided"
	case id.Aligned:
		s += "aligned"
	default:
		s += "not aligned"
	}
	if id.Why != "" {
		s += " (" + id.Why + ")"
	}
	if id.Err != nil {
		s += ": " + id.Err.Error()
	}
	return s
}

// String returns the verdict and its reasons, one step a line.
func (v *Verdict) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DMARC (%v) for %s: %s, disposition %s", v.Generation, v.AuthorDomain, v.Result, v.Disposition)
	for i, s := range v.Steps {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, s)
	}
	return b.String()
}

// Evaluate evaluates DMARC for a message. The verdict's Result is
// TempError when DNS failed; the returned error is non-nil only for input
// that cannot be evaluated (an invalid author domain).
func (e *Evaluator) Evaluate(ctx context.Context, in Input) (*Verdict, error) {
	ctx, span := e.tel.start(ctx)
	v, err := e.evaluate(ctx, in)
	e.tel.evaluated(ctx, span, v, err)
	return v, err
}

// evaluate is Evaluate without telemetry.
func (e *Evaluator) evaluate(ctx context.Context, in Input) (*Verdict, error) {
	author, err := normalizeDomain(in.From)
	if err != nil {
		return nil, fmt.Errorf("%w (Input.From)", err)
	}
	s := newSession(ctx, e.res, e.gen)
	v := &Verdict{Generation: e.gen, AuthorDomain: author, Disposition: PolicyNone}
	defer func() { v.Queries = s.queries }()

	d, err := s.discover(author, &v.Steps)
	if err != nil {
		return v.tempError(err), nil
	}
	if d.record == nil {
		v.Result = None
		addStep(&v.Steps, "no DMARC policy record applies: DMARC does not apply (%s)", e.cite("section 6.6.3", "section 4.10.1"))
		return v, nil
	}
	v.Record, v.PolicyDomain, v.OrgDomain = d.record, d.domain, d.org

	npMayApply := e.choosePolicy(v, d)
	if v.Result == PermError {
		return v, nil
	}

	tempErr := e.align(s, v, &in)
	switch {
	case v.SPFAligned || v.DKIMAligned != "":
		v.Result = Pass
		return v, nil
	case tempErr != nil:
		return v.tempError(tempErr), nil
	}
	v.Result = Fail
	addStep(&v.Steps, "fail: no authenticated identifier is aligned with %s (%s)", author, e.cite("section 4.2", "section 5.3.5"))
	// Which of sp and np applies matters only now: a pass needs no
	// existence check, so a DNS failure there cannot hide it.
	if npMayApply {
		if err := e.nonexistent(s, v, d.record); err != nil {
			return v.tempError(err), nil
		}
	}
	e.dispose(v)
	return v, nil
}

func (v *Verdict) tempError(err error) *Verdict {
	v.Result, v.Disposition, v.Err = TempError, PolicyNone, err
	addStep(&v.Steps, "temperror: %v; the policy is not applied", err)
	return v
}

// cite names the section of the generation's RFC.
func (e *Evaluator) cite(s7489, s9989 string) string {
	if e.gen == RFC7489 {
		return "RFC 7489 " + s7489
	}
	return "RFC 9989 " + s9989
}

// choosePolicy sets v.Policy from the record: "p" for the author domain's
// own record, "sp" (or "p") for a record found above it, or PermError for a
// record whose policy is malformed and that names no valid "rua". It
// reports whether "np" may replace that policy, which only a failing
// message needs to find out (see nonexistent).
func (e *Evaluator) choosePolicy(v *Verdict, d discovery) (npMayApply bool) {
	rec := d.record
	var malformed []string
	for _, tag := range []string{"p", "sp", "np"} {
		if tag == "np" && e.gen == RFC7489 {
			continue // unknown to RFC 7489, so ignored
		}
		if rec.ignored(tag) {
			malformed = append(malformed, tag)
		}
	}
	if e.gen == RFC7489 && rec.Policy == "" && !rec.ignored("p") {
		malformed = append(malformed, "p (missing)")
	}
	if len(malformed) > 0 {
		tags := strings.Join(malformed, ", ")
		if rec.hasValidRUA() {
			v.Policy, v.PolicyTag = PolicyNone, "p"
			addStep(&v.Steps, "policy: malformed %s and a valid rua, so the record is read as p=none (%s)", tags, e.cite("section 6.6.3 step 6", "section 4.10.1"))
			return false
		}
		v.Result = PermError
		addStep(&v.Steps, "permerror: malformed %s and no valid rua, so DMARC processing is not applied (%s)", tags, e.cite("section 6.6.3 step 6", "section 4.10.1"))
		return false
	}

	pol, tag := rec.Policy, "p"
	if pol == "" { // RFC 9989 only: a missing p reads as none
		pol = PolicyNone
		addStep(&v.Steps, "policy: no p tag, read as p=none (RFC 9989 section 4.7)")
	}
	if d.domain == v.AuthorDomain {
		v.Policy, v.PolicyTag = pol, tag
		addStep(&v.Steps, "policy: p=%s, the record is the author domain's own (%s)", pol, e.cite("section 6.6.3", "section 4.10.1"))
		return false
	}
	if rec.SubdomainPolicy != "" {
		pol, tag = rec.SubdomainPolicy, "sp"
	}
	v.Policy, v.PolicyTag = pol, tag
	addStep(&v.Steps, "policy: %s=%s, %s is a subdomain of policy domain %s (%s)", tag, pol, v.AuthorDomain, d.domain, e.cite("section 6.3", "section 4.10.1"))
	return e.gen == RFC9989 && rec.NonexistentPolicy != "" && rec.NonexistentPolicy != pol
}

// nonexistent replaces the subdomain policy with "np" when the author
// domain, a subdomain of the policy domain, does not exist (RFC 9989
// sections 3.2.13 and 4.10.1). It is called only for a failing message.
func (e *Evaluator) nonexistent(s *session, v *Verdict, rec *Record) error {
	exists, err := s.exists(v.AuthorDomain)
	if err != nil {
		return err
	}
	if exists {
		addStep(&v.Steps, "policy: %s exists, so np does not apply", v.AuthorDomain)
		return nil
	}
	v.Policy, v.PolicyTag = rec.NonexistentPolicy, "np"
	addStep(&v.Steps, "policy: %s has no A, AAAA or MX records, a non-existent subdomain: np=%s (RFC 9989 sections 3.2.13, 4.10.1)", v.AuthorDomain, v.Policy)
	return nil
}

// align checks SPF and DKIM alignment (RFC 7489 section 3.1, RFC 9989
// section 4.4) and returns the DNS failure, if any, that left an identifier
// that might have aligned undecided.
func (e *Evaluator) align(s *session, v *Verdict, in *Input) error {
	var tempErr error
	if id := in.spfDomain(); id != "" {
		ok, how, err := e.aligned(s, v, id, v.Record.SPFAlignment)
		v.Identifiers = append(v.Identifiers, Identifier{Method: "spf", Domain: id, Result: orNone(in.SPF), Aligned: ok, Why: how, Err: err})
		switch {
		case err != nil && !mayPass(in.SPF):
			addStep(&v.Steps, "spf: %s for %s, alignment undecided (%v), which does not matter without a pass", orNone(in.SPF), id, err)
		case err != nil:
			tempErr = err
			addStep(&v.Steps, "spf: alignment of %s undecided: %v", id, err)
		case !ok:
			addStep(&v.Steps, "spf: %s for %s, not aligned with %s: %s", orNone(in.SPF), id, v.AuthorDomain, how)
		case in.SPF == authres.ResultPass:
			v.SPFAligned = true
			addStep(&v.Steps, "spf: pass for %s, aligned: %s", id, how)
		case in.SPF == authres.ResultTempError:
			tempErr = errors.New("dmarc: spf temperror for aligned domain " + id)
			addStep(&v.Steps, "spf: temperror for %s, which is aligned: undecided", id)
		default:
			addStep(&v.Steps, "spf: %s for %s, aligned (%s) but not a pass", orNone(in.SPF), id, how)
		}
	}
	for _, sig := range in.DKIM {
		ok, how, err := e.aligned(s, v, sig.Domain, v.Record.DKIMAlignment)
		v.Identifiers = append(v.Identifiers, Identifier{Method: "dkim", Domain: sig.Domain, Result: orNone(sig.Result), Aligned: ok, Why: how, Err: err})
		switch {
		case err != nil && !mayPass(sig.Result):
			addStep(&v.Steps, "dkim: %s for d=%s, alignment undecided (%v), which does not matter without a pass", orNone(sig.Result), sig.Domain, err)
		case err != nil:
			tempErr = err
			addStep(&v.Steps, "dkim: alignment of d=%s undecided: %v", sig.Domain, err)
		case !ok:
			addStep(&v.Steps, "dkim: %s for d=%s, not aligned with %s: %s", orNone(sig.Result), sig.Domain, v.AuthorDomain, how)
		case sig.Result == authres.ResultPass:
			if v.DKIMAligned == "" {
				v.DKIMAligned = strings.ToLower(sig.Domain)
			}
			addStep(&v.Steps, "dkim: pass for d=%s, aligned: %s", sig.Domain, how)
		case sig.Result == authres.ResultTempError:
			tempErr = errors.New("dmarc: dkim temperror for aligned domain " + sig.Domain)
			addStep(&v.Steps, "dkim: temperror for d=%s, which is aligned: undecided", sig.Domain)
		default:
			addStep(&v.Steps, "dkim: %s for d=%s, aligned (%s) but not a pass", orNone(sig.Result), sig.Domain, how)
		}
	}
	if in.spfDomain() == "" && len(in.DKIM) == 0 {
		addStep(&v.Steps, "no SPF or DKIM identifier to align")
	}
	return tempErr
}

// aligned reports whether id is aligned with the author domain under mode,
// and why.
func (e *Evaluator) aligned(s *session, v *Verdict, id string, mode Alignment) (bool, string, error) {
	id, err := normalizeDomain(id)
	if err != nil {
		return false, "not a valid domain name", nil
	}
	if id == v.AuthorDomain {
		return true, "identical to the author domain", nil
	}
	if mode == AlignmentStrict {
		return false, "strict alignment requires the identical domain", nil
	}
	if suffix(id, 1) != suffix(v.AuthorDomain, 1) {
		// Organizational domains are suffixes of the names: with no label
		// in common they differ, and no tree walk is needed.
		return false, "relaxed, but the domains share no organizational domain", nil
	}
	method := "tree walk, RFC 9989 section 4.10.2"
	if e.gen == RFC7489 {
		method = "public suffix list, RFC 7489 section 3.2"
	}
	authorOrg, err := s.orgDomain(v.AuthorDomain)
	if err != nil {
		return false, "", err
	}
	v.OrgDomain = authorOrg
	if id != authorOrg && !strings.HasSuffix(id, "."+authorOrg) {
		// An organizational domain is the name or one of its parents, so
		// an identifier outside the author's can never share it: no walk
		// from a name the sender chose, whose DNS could fail on purpose.
		return false, fmt.Sprintf("relaxed, but %s is not within the organizational domain %s (%s)", id, authorOrg, method), nil
	}
	idOrg, err := s.orgDomain(id)
	if err != nil {
		return false, "", err
	}
	if idOrg != authorOrg {
		return false, fmt.Sprintf("relaxed, but organizational domains %s and %s differ (%s)", idOrg, authorOrg, method), nil
	}
	return true, fmt.Sprintf("relaxed, same organizational domain %s (%s)", authorOrg, method), nil
}

// dispose sets the disposition of a failing message: the policy, or the
// one below it for a message pct did not sample (RFC 7489 section 6.6.4)
// or a record in test mode (RFC 9989 section 4.7, t=y).
func (e *Evaluator) dispose(v *Verdict) {
	pol, rec := v.Policy, v.Record
	v.Disposition = pol
	if pol == PolicyNone {
		addStep(&v.Steps, "disposition: none, the domain owner asks for no action (%s=none)", v.PolicyTag)
		return
	}
	switch e.gen {
	case RFC7489:
		if rec.Percent >= 100 {
			break
		}
		// pct=0 never applies the policy; otherwise a message is sampled
		// when a draw in [0, 100) falls below pct.
		if rec.Percent > 0 && e.rand(100) < rec.Percent {
			addStep(&v.Steps, "pct=%d: message sampled, policy applied (RFC 7489 section 6.6.4)", rec.Percent)
			break
		}
		v.Disposition = pol.below()
		addStep(&v.Steps, "pct=%d: message not sampled, so %s is applied instead of %s (RFC 7489 section 6.6.4)", rec.Percent, v.Disposition, pol)
	case RFC9989:
		if rec.Testing {
			v.Disposition = pol.below()
			addStep(&v.Steps, "t=y: the domain owner is testing, so %s is applied instead of %s (RFC 9989 section 4.7)", v.Disposition, pol)
		}
	}
	addStep(&v.Steps, "disposition: %s", v.Disposition)
}

// mayPass reports whether an SPF or DKIM result is, or might have been, a
// pass: only such an identifier's undecided alignment leaves the DMARC
// result undecided (temperror); a fail stays a fail.
func mayPass(r authres.ResultValue) bool {
	return r == authres.ResultPass || r == authres.ResultTempError
}

func orNone(r authres.ResultValue) authres.ResultValue {
	if r == "" {
		return authres.ResultNone
	}
	return r
}
