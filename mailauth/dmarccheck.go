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
// platform mail sent with the customer's own From, from the DMARC
// preflight ([Preflight]): both generations of receivers (RFC 9989 and RFC
// 7489, every message sampled for "pct"). It is plain data.
type DMARCCheck struct {
	// IP is the platform address the verdict is for: the first whose mail
	// would not pass, or the last one checked.
	IP netip.Addr
	// MailFrom is the envelope sender the platform uses for such mail.
	MailFrom string
	// DKIM lists the d= domains the mail would be signed with.
	DKIM []string
	// Report is the preflight's report for mail from IP.
	Report *PreflightReport
}

// Pass reports whether the mail passes DMARC with both generations of
// receivers: an aligned SPF or DKIM pass. A domain without a DMARC record
// has no policy to fail, and passes when an identifier is aligned all the
// same.
func (c *DMARCCheck) Pass() bool {
	for _, v := range c.verdicts() {
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
	return true
}

// fails reports whether a generation of receivers would find the mail
// failing DMARC: a fail, or no policy and no aligned pass. A temperror or
// permerror is no verdict at all and does not count.
func (c *DMARCCheck) fails() bool {
	for _, v := range c.verdicts() {
		if v.Result == dmarc.Fail || v.Result == dmarc.None && !c.aligned(v) {
			return true
		}
	}
	return false
}

func (c *DMARCCheck) verdicts() []*dmarc.Verdict {
	return []*dmarc.Verdict{c.Report.RFC9989, c.Report.RFC7489}
}

// aligned reports, for a domain without a DMARC record, whether an
// identifier passes aligned with it in relaxed mode (the default).
func (c *DMARCCheck) aligned(v *dmarc.Verdict) bool {
	org := dmarc.OrganizationalDomain(v.AuthorDomain)
	for _, d := range c.Report.DKIM {
		if d.Result == authres.ResultPass && dmarc.OrganizationalDomain(d.Domain) == org {
			return true
		}
	}
	return c.Report.SPF != nil && c.Report.SPF.Result == spf.Pass && dmarc.OrganizationalDomain(c.Report.SPFDomain) == org
}

// String returns the Summary.
func (c *DMARCCheck) String() string { return c.Summary() }

// Summary says in a sentence what the gateway would do and why.
func (c *DMARCCheck) Summary() string {
	r := c.Report
	for i, v := range c.verdicts() {
		if v.Result == dmarc.Pass || v.Result == dmarc.None && c.aligned(v) {
			continue
		}
		who := ""
		if i > 0 {
			who = fmt.Sprintf(" (%v receivers)", v.Generation)
		}
		var spfResult spf.Result = spf.None
		if r.SPF != nil {
			spfResult = r.SPF.Result
		}
		ids := fmt.Sprintf("SPF %s for %s", spfResult, r.SPFDomain)
		for _, d := range r.DKIM {
			ids += fmt.Sprintf(", DKIM %s for d=%s", d.Result, d.Domain)
		}
		switch v.Result {
		case dmarc.TempError:
			return fmt.Sprintf("DMARC%s: %s's policy could not be read (%v).", who, v.AuthorDomain, v.Err)
		case dmarc.PermError:
			return fmt.Sprintf("DMARC%s: the DMARC record of %s is malformed, so no policy applies; %s.", who, v.PolicyDomain, ids)
		case dmarc.None:
			return fmt.Sprintf("DMARC%s: %s publishes no DMARC policy, and no identifier of mail from %s passes aligned with it (%s).", who, v.AuthorDomain, c.IP, ids)
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
	return fmt.Sprintf("DMARC: mail from %s passes at %s's gateway.", c.IP, r.AuthorDomain)
}

// dmarcVerdict runs the DMARC preflight for mail from the customer's
// address from (domain cd) leaving from each platform address checked in
// checks, with envelope sender mailFrom and DKIM signatures of the domains
// sigs, and returns the first check that does not pass, or the last.
func (p *Policy) dmarcVerdict(ctx context.Context, checks []SPFCheck, from, cd, mailFrom string, sigs []string) (*DMARCCheck, error) {
	var signing []Signing
	for _, s := range sigs {
		sg := Signing{Domain: s}
		if s == cd {
			sg.Selector = p.customerDKIM.Selector
		}
		signing = append(signing, sg)
	}
	var c *DMARCCheck
	for _, chk := range checks {
		r, err := p.preflight.Check(ctx, PreflightInput{From: from, IP: chk.IP, MailFrom: mailFrom, HELO: p.platform, DKIM: signing})
		if err != nil {
			return nil, fmt.Errorf("mailauth: DMARC preflight for %s: %w", cd, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c = &DMARCCheck{IP: chk.IP, MailFrom: mailFrom, DKIM: sigs, Report: r}
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
