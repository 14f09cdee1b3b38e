package mailauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// A DMARCCheck is the DMARC verdict a customer's gateway would reach for
// platform mail sent with the customer's own From, under both generations a
// gateway may run (RFC 9989 and RFC 7489, sampling every message for
// "pct").
type DMARCCheck struct {
	// IP is the platform address the verdicts are for: the first whose
	// mail would not pass, or the last one checked.
	IP netip.Addr
	// MailFrom is the envelope sender the platform uses for such mail.
	MailFrom string
	// SPF is the SPF result for MailFrom's domain from IP.
	SPF spf.Result
	// DKIM lists the d= domains the mail would be signed with.
	DKIM []string
	// Verdicts holds one verdict per generation, RFC 9989 first.
	Verdicts []*dmarc.Verdict
}

// Pass reports whether the mail passes DMARC under every generation: an
// aligned SPF or DKIM pass. A domain without a DMARC record has no policy
// to fail, and passes when an identifier is aligned all the same.
func (c *DMARCCheck) Pass() bool {
	for _, v := range c.Verdicts {
		switch v.Result {
		case dmarc.Pass:
		case dmarc.None:
			if !c.aligned(v) {
				return false
			}
		default:
			return false
		}
	}
	return len(c.Verdicts) > 0
}

// aligned reports, for a domain without a DMARC record, whether an
// identifier would align with it in relaxed mode (the default).
func (c *DMARCCheck) aligned(v *dmarc.Verdict) bool {
	org := organizational(v.AuthorDomain)
	for _, d := range c.DKIM {
		if organizational(d) == org {
			return true
		}
	}
	_, mf, _ := strings.Cut(c.MailFrom, "@")
	return organizational(mf) == org && c.SPF == spf.Pass
}

// Summary says in a sentence what the gateway would do and why.
func (c *DMARCCheck) Summary() string {
	for i, v := range c.Verdicts {
		if v.Result == dmarc.Pass || v.Result == dmarc.None && c.aligned(v) {
			continue
		}
		who := ""
		if i > 0 {
			who = fmt.Sprintf(" (%v receivers)", v.Generation)
		}
		_, mf, _ := strings.Cut(c.MailFrom, "@")
		ids := fmt.Sprintf("SPF %s for %s, DKIM d=%s", c.SPF, mf, strings.Join(c.DKIM, ", d="))
		switch v.Result {
		case dmarc.TempError:
			return fmt.Sprintf("DMARC%s: %s's policy could not be read (%v).", who, v.AuthorDomain, v.Err)
		case dmarc.PermError:
			return fmt.Sprintf("DMARC%s: the DMARC record of %s is malformed, so no policy applies; %s.", who, v.PolicyDomain, ids)
		case dmarc.None:
			return fmt.Sprintf("DMARC%s: %s publishes no DMARC policy, and no identifier of mail from %s is aligned with it (%s).", who, v.AuthorDomain, c.IP, ids)
		}
		action := "would record a DMARC failure"
		switch v.Disposition {
		case dmarc.PolicyReject:
			action = "would reject it"
		case dmarc.PolicyQuarantine:
			action = "would quarantine it"
		}
		return fmt.Sprintf("DMARC%s: mail from %s has no aligned pass for %s (%s): %s's gateway %s (%s=%s).",
			who, c.IP, v.AuthorDomain, ids, v.AuthorDomain, action, v.PolicyTag, v.Policy)
	}
	return fmt.Sprintf("DMARC: mail from %s passes at %s's gateway.", c.IP, c.Verdicts[0].AuthorDomain)
}

// dmarcVerdict evaluates DMARC at the customer's domain cd for mail from
// each platform address checked in checks, with envelope sender mailFrom and
// DKIM signatures of the domains sigs, and returns the first check that
// does not pass, or the last.
func (p *Policy) dmarcVerdict(ctx context.Context, checks []SPFCheck, cd, mailFrom string, sigs []string) (*DMARCCheck, error) {
	var evs []*dmarc.Evaluator
	for _, g := range []dmarc.Generation{dmarc.RFC9989, dmarc.RFC7489} {
		e, err := dmarc.New(dmarc.Config{Resolver: p.resolver, Generation: g, Rand: func(int) int { return 0 }})
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	_, mfDomain, _ := strings.Cut(mailFrom, "@")
	var dkim []dmarc.DKIMResult
	for _, s := range sigs {
		dkim = append(dkim, dmarc.DKIMResult{Domain: s, Result: authres.ResultPass})
	}
	var c *DMARCCheck
	for _, chk := range checks {
		res := chk.Result
		if mfDomain != cd {
			checker, err := spf.New(spf.Config{Resolver: p.resolver})
			if err != nil {
				return nil, err
			}
			res, _ = checker.CheckHost(ctx, chk.IP, mfDomain, mailFrom, p.platform)
		}
		c = &DMARCCheck{IP: chk.IP, MailFrom: mailFrom, DKIM: sigs, SPF: res}
		in := dmarc.Input{From: cd, MailFrom: mfDomain, HELO: p.platform, SPF: authres.ResultValue(res), DKIM: dkim}
		for _, e := range evs {
			v, err := e.Evaluate(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("mailauth: DMARC of %s: %w", cd, err)
			}
			c.Verdicts = append(c.Verdicts, v)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !c.Pass() {
			break
		}
	}
	return c, nil
}

// dkimPublished reports whether domain publishes the platform's customer
// DKIM key under its selector: a key record whose p= is the platform's.
func (p *Policy) dkimPublished(ctx context.Context, domain string) (bool, error) {
	want, ok := p.DKIMRecord(domain)
	if !ok {
		return false, nil
	}
	txts, err := p.resolver.LookupTXT(ctx, want.Name)
	if err != nil {
		if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
			return false, nil
		}
		return false, err
	}
	key := dkimTag(want.Text, "p")
	for _, t := range txts {
		if dkimTag(t, "p") == key {
			return true, nil
		}
	}
	return false, nil
}

// dkimTag returns the value of tag name in a DKIM tag list (RFC 6376
// section 3.2), with its whitespace removed; empty when absent.
func dkimTag(list, name string) string {
	for field := range strings.SplitSeq(list, ";") {
		k, v, ok := strings.Cut(field, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.Join(strings.Fields(v), "")
		}
	}
	return ""
}
