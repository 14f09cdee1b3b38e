package mailauth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/internal/header"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// AuthResults are the authentication results of one received message, the
// content of its Authentication-Results header field (RFC 8601).
//
// It is plain data, owned by the caller; the zero value formats as a header
// with an empty authserv-id and no results.
type AuthResults struct {
	// ServID is the authserv-id, the name of the receiving service.
	ServID string
	// SPF is the SPF result for MailFrom (HELO for a null reverse-path);
	// empty leaves SPF out.
	SPF      spf.Result
	MailFrom string
	HELO     string
	// DKIM holds one result per signature.
	DKIM []dkim.Signature
	// DMARC is the DMARC verdict; nil leaves DMARC out.
	DMARC *dmarc.Verdict
}

// Value returns the header field value: the authserv-id and one resinfo
// per method, with the properties of RFC 8601 section 2.7 (smtp.mailfrom,
// smtp.helo, header.d, header.s, header.b, header.from) and, for DMARC,
// policy.dmarc with the policy the record asks for and, on a fail, the
// disposition as the reason.
func (a *AuthResults) Value() string {
	results := make([]authres.Result, 0, 2+len(a.DKIM))
	if a.SPF != "" {
		r := &authres.SPFResult{Value: authres.ResultValue(a.SPF), Helo: a.HELO}
		if a.MailFrom != "" {
			r.From = a.MailFrom
		}
		results = append(results, r)
	}
	for _, s := range a.DKIM {
		p := map[string]string{"header.d": s.Domain, "header.s": s.Selector, "header.i": s.Identifier}
		if len(s.B) >= 8 {
			p["header.b"] = s.B[:8] // RFC 6008 section 4: enough to tell signatures apart
		}
		if s.Err != nil {
			p["reason"] = strings.TrimPrefix(s.Err.Error(), "dkim: ")
		}
		results = append(results, &authres.GenericResult{Method: "dkim", Value: s.Result, Params: p})
	}
	if v := a.DMARC; v != nil {
		p := map[string]string{"header.from": v.AuthorDomain}
		if v.Policy != "" {
			p["policy.dmarc"] = string(v.Policy) // what the domain owner asks for
		}
		switch {
		case v.Result == dmarc.Fail:
			p["reason"] = "disposition " + string(v.Disposition)
		case v.Result == dmarc.TempError && v.Err != nil:
			p["reason"] = strings.TrimPrefix(v.Err.Error(), "dmarc: ")
		}
		results = append(results, &authres.GenericResult{Method: "dmarc", Value: authres.ResultValue(v.Result), Params: p})
	}
	return authres.Format(a.ServID, results)
}

// String returns the whole header field, "Authentication-Results: " and
// the value.
func (a *AuthResults) String() string {
	return "Authentication-Results: " + a.Value()
}

// AuthenticatorConfig configures an [Authenticator]. ServID is required.
//
// Its zero value is not enough: ServID is required; the other fields have
// working zero values.
type AuthenticatorConfig struct {
	// ServID is the authserv-id written in the header field, usually the
	// receiving host's name. Required.
	ServID string
	// Resolver answers the SPF, DKIM and DMARC queries. Nil means
	// net.DefaultResolver.
	Resolver Resolver
	// Generation is the DMARC specification to follow; the zero value is
	// RFC 9989.
	Generation dmarc.Generation
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

// An Authenticator checks received messages: SPF for the envelope, DKIM
// for the signatures, DMARC for the author domain. It is safe for
// concurrent use.
//
// Create one with NewAuthenticator; the zero value is not usable.
type Authenticator struct {
	servID string
	spf    *spf.Checker
	dkim   *dkim.Verifier
	dmarc  *dmarc.Evaluator
}

// NewAuthenticator returns an Authenticator for cfg, or an error naming the
// invalid field.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.ServID == "" {
		return nil, fmt.Errorf("mailauth: AuthenticatorConfig.ServID is empty")
	}
	checks, err := newChecks(cfg.Resolver, cfg.Generation, nil, observability{cfg.MeterProvider, cfg.TracerProvider, cfg.Logger})
	if err != nil {
		return nil, err
	}
	return &Authenticator{servID: cfg.ServID, spf: checks.spf, dkim: checks.dkim, dmarc: checks.dmarc}, nil
}

// checks are the verifiers the Authenticator and the Preflight share.
type checks struct {
	spf   *spf.Checker
	dkim  *dkim.Verifier
	dmarc *dmarc.Evaluator
}

func newChecks(res Resolver, gen dmarc.Generation, rnd func(int) int, obs observability) (checks, error) {
	var c checks
	var err error
	var sr spf.Resolver
	var kr dkim.Resolver
	var dr dmarc.Resolver
	if res != nil { // a nil Resolver stays nil: each package picks its default
		sr, kr, dr = res, res, res
	}
	if c.spf, err = spf.New(obs.spfConfig(sr)); err != nil {
		return c, fmt.Errorf("mailauth: %w", err)
	}
	if c.dkim, err = dkim.NewVerifier(dkim.VerifierConfig{Resolver: kr}); err != nil {
		return c, fmt.Errorf("mailauth: %w", err)
	}
	if c.dmarc, err = dmarc.New(obs.dmarcConfig(dr, gen, rnd)); err != nil {
		return c, fmt.Errorf("mailauth: %w", err)
	}
	return c, nil
}

// Authenticate checks a received message (header and body, as received)
// that came from ip with the given envelope sender (empty for the null
// reverse-path) and HELO name. The error is non-nil only when the message
// cannot be read: a message without a usable From gets DMARC permerror (RFC
// 9989 section 5.3.1), DNS failures give temperror results.
func (a *Authenticator) Authenticate(ctx context.Context, msg []byte, ip netip.Addr, mailFrom, helo string) (*AuthResults, error) {
	res := &AuthResults{ServID: a.servID, MailFrom: mailFrom, HELO: helo}
	spfResult, _ := a.spf.CheckMailFrom(ctx, ip, mailFrom, helo)
	res.SPF = spfResult

	sigs, err := a.dkim.Verify(ctx, bytes.NewReader(msg))
	if err != nil {
		return nil, fmt.Errorf("mailauth: %w", err)
	}
	res.DKIM = sigs

	in := dmarc.Input{MailFrom: envelopeDomain(mailFrom), HELO: helo, SPF: authres.ResultValue(spfResult)}
	for _, s := range sigs {
		in.DKIM = append(in.DKIM, dmarc.DKIMResult{Domain: s.Domain, Selector: s.Selector, Result: s.Result})
	}
	from, ferr := dmarc.AuthorDomain(headerValue(msg, "From"))
	if ferr != nil {
		res.DMARC = &dmarc.Verdict{Generation: a.dmarc.Generation(), Result: dmarc.PermError,
			Disposition: dmarc.PolicyNone, Steps: []string{"no single author domain: " + ferr.Error()}}
		return res, nil
	}
	in.From = from
	v, err := a.dmarc.Evaluate(ctx, in)
	if err != nil {
		res.DMARC = &dmarc.Verdict{Generation: a.dmarc.Generation(), AuthorDomain: from, Result: dmarc.PermError,
			Disposition: dmarc.PolicyNone, Steps: []string{err.Error()}}
		return res, nil
	}
	res.DMARC = v
	return res, nil
}

// envelopeDomain returns the domain of an envelope sender ("<a@b>", "a@b"
// or a bare domain), empty for the null reverse-path.
func envelopeDomain(mailFrom string) string {
	mailFrom = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(mailFrom), "<"), ">")
	if at := strings.LastIndexByte(mailFrom, '@'); at >= 0 {
		return mailFrom[at+1:]
	}
	return mailFrom
}

// headerValue returns the unfolded value of the header field name in msg,
// or "" when there is none. With several fields of that name their values
// are joined with ", ", so that AuthorDomain sees every From address and
// refuses two different domains (RFC 9989 section 5.3.1).
func headerValue(msg []byte, name string) string {
	return strings.Join(header.Values(msg, name), ", ")
}
