package mailauth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// A Cloud is the kind of deployment a customer's subscription runs on.
//
// The zero value is SharedCloud.
type Cloud string

// The deployments.
const (
	// SharedCloud: mail leaves through the platform's servers. It is the
	// zero value.
	SharedCloud Cloud = ""
	// PrivateCloud: the customer runs its own instance of the platform and
	// may send through its own SMTP gateway.
	PrivateCloud Cloud = "private"
)

// A Customer is what [Policy.Sender] needs to know about the customer a
// message goes to. Its zero value is a shared-cloud customer without a
// sender of its own.
//
// It is plain data; Sender only reads it.
type Customer struct {
	// From is the sender address the customer configured in its
	// subscription, an addr-spec such as "alerts@customer.example"; empty
	// means the application's default sender. Its domain may have U-labels;
	// the checks and Decision.From use its A-label form.
	From string
	// Cloud is the customer's deployment; the zero value is SharedCloud.
	Cloud Cloud
	// Gateway is the host name of the customer's own SMTP gateway, which
	// only a PrivateCloud deployment can have; empty means mail leaves
	// through the platform's servers.
	Gateway string
	// DKIM reports that the platform signs this customer's mail with the
	// customer's own domain, under PolicyConfig.CustomerDKIM. Sender checks
	// that the key is published before counting on it.
	DKIM bool
}

// ErrSender is matched by the error [Policy.Sender] returns for a Customer
// whose From or Gateway cannot be used.
var ErrSender = errors.New("mailauth: invalid customer sender")

// A Decision is the sender [Policy.Sender] chose for one message and why:
// data for a program or a UI, and a short report for people (String). It
// shares nothing with the Policy; the caller owns it.
//
// The decision is plain values: the caller puts From and, when set,
// ReplyTo on the message it is about to send, and has it signed as
// DKIMDomain. The SMTP backend signs, not the policy, so its DKIM
// configuration must match: normally the platform's DKIMDomain, the same for
// every decision; the customer's own domain, with CustomerDKIM.Selector and
// the matching private key, when the decision is [SenderCustomer] with
// PolicyConfig.CustomerDKIM and Customer.DKIM (sent through the platform's
// signer instead, it still passes DMARC only if SPF aligns); an empty
// DKIMDomain (a private-cloud customer's own gateway) leaves signing to
// that gateway. Likewise the envelope sender must be the From address, as
// Policy.Sender assumes, or in PolicyConfig.BounceDomain.
//
// The zero value is an empty decision; Sender never returns one. A
// Decision is not safe for concurrent modification; reads are safe.
type Decision struct {
	// App is the sending application.
	App App
	// Choice says which sender was chosen.
	Choice SenderChoice
	// From is the From address to send with, with the application's
	// FromName when it has one (`"Security Alerts" <noreply@platform.example>`,
	// formatted by net/mail for a From header).
	From string
	// ReplyTo is the Reply-To address: the customer's own address when the
	// decision fell back to the platform's sender, empty otherwise.
	ReplyTo string
	// DKIMDomain is the d= domain to sign with: the customer's domain when
	// the platform signs with its published key, the platform's DKIM domain
	// otherwise; empty for a private-cloud customer's own gateway.
	DKIMDomain string
	// SPF holds the SPF verdict for each platform address checked: the
	// first and last address of each network of PolicyConfig.SendingIPs,
	// in order, then the addresses inside a network where the customer's
	// ip4/ip6 terms divide it; empty when no check ran.
	SPF []SPFCheck
	// DMARC is the DMARC verdict the customer's gateway would reach; nil
	// when no check ran.
	DMARC *DMARCCheck
	// Findings explain the choice, in order.
	Findings []Finding
	// Fix is the DNS change that would allow the customer's own From, with
	// the allow-list entry for the fallback; nil when nothing is to change.
	Fix *Fix
}

// customerAddress parses a customer's From: a bare addr-spec, since a
// display name would smuggle a second identity into the header.
func customerAddress(from string) (string, string, error) {
	if strings.ContainsAny(from, "\r\n") {
		return "", "", fmt.Errorf("%w: Customer.From %q holds a line break", ErrSender, from)
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", "", fmt.Errorf("%w: Customer.From %q: %v", ErrSender, from, err)
	}
	if a.Name != "" || a.Address != strings.TrimSpace(from) {
		return "", "", fmt.Errorf("%w: Customer.From %q must be a bare address such as alerts@customer.example", ErrSender, from)
	}
	at := strings.LastIndexByte(a.Address, '@')
	d, err := normalizeDomain(a.Address[at+1:], domain.Host)
	if err != nil {
		return "", "", fmt.Errorf("%w: Customer.From %q: the domain %s", ErrSender, from, err)
	}
	return a.Address[:at] + "@" + d, d, nil
}

// Sender chooses the From of a message that application app sends to a
// customer, at the policy clock's time:
//
//   - a customer without a sender of its own gets the application's default
//     sender (its migration read against the clock);
//   - a private-cloud customer with its own SMTP gateway keeps its own From,
//     and no check is run, since the platform's IPs play no part;
//   - otherwise the customer's own From is used only if its SPF record gives
//     pass for every platform sending address and the customer's gateway
//     would pass the message by DMARC (aligned SPF or aligned DKIM), as the
//     DMARC preflight ([Preflight]) finds for both generations of receivers.
//     Failing that, the application's default sender is used, the
//     customer's address becomes the Reply-To, and Decision.Fix holds the
//     SPF record to publish, the allow-list entry for gateways with a
//     strict DMARC policy and, when the policy has a customer DKIM key, the
//     key record. For ScheduledReports this is the scheduled-report trap,
//     and the fix recommends the platform sender.
//
// Failed DNS lookups give a fallback with a finding, not an error: the
// platform's sender is the safe choice. The error is non-nil only for an
// unknown app, an invalid Customer (matching [ErrSender]) or a cancelled
// ctx.
//
// When the application has a FromName, Decision.From carries it.
func (p *Policy) Sender(ctx context.Context, app App, c Customer) (*Decision, error) {
	d, err := p.sender(ctx, app, c)
	if err != nil {
		return nil, err
	}
	// The checks and the fix use the bare address; the name goes last.
	a, _ := p.Application(app)
	d.From = a.mailbox(d.From)
	return d, nil
}

// mailbox returns addr with the application's FromName, formatted for a
// From header; addr as it is when there is none.
func (a Application) mailbox(addr string) string {
	if a.FromName == "" {
		return addr
	}
	return (&mail.Address{Name: a.FromName, Address: addr}).String()
}

// sender is Sender without the display name.
func (p *Policy) sender(ctx context.Context, app App, c Customer) (*Decision, error) {
	now := p.clock.Now()
	a, err := p.Application(app)
	if err != nil {
		return nil, err
	}
	sendFrom := a.Domain
	if m := a.Migration; m != nil {
		sendFrom = m.DomainAt(now)
	}
	d := &Decision{App: app, From: a.LocalPart + "@" + sendFrom, DKIMDomain: p.dkimDomain}
	if m := a.Migration; m != nil && now.Before(m.At) {
		d.Findings = append(d.Findings, Finding{CodeMigration, fmt.Sprintf("From %s, %s sends from %s instead of %s.", m.At.Format(time.RFC3339), a.Name, m.New, m.Old)})
	}
	switch c.Cloud {
	case SharedCloud:
		if c.Gateway != "" {
			return nil, fmt.Errorf("%w: Customer.Gateway %q is set for a shared-cloud customer, whose mail always leaves through the platform", ErrSender, c.Gateway)
		}
	case PrivateCloud:
	default:
		return nil, fmt.Errorf("%w: Customer.Cloud %q is neither SharedCloud nor PrivateCloud", ErrSender, c.Cloud)
	}
	if c.From == "" {
		d.Choice = SenderDefault
		d.Findings = append(d.Findings, Finding{CodeNoCustomerSender, "No sender of the customer's own is configured: the application's default sender is used."})
		return d, nil
	}
	from, cd, err := customerAddress(c.From)
	if err != nil {
		return nil, err
	}
	if c.Cloud == PrivateCloud && c.Gateway != "" {
		if _, err := normalizeDomain(c.Gateway, domain.Host); err != nil {
			return nil, fmt.Errorf("%w: Customer.Gateway %q %v", ErrSender, c.Gateway, err)
		}
		d.Choice, d.From, d.DKIMDomain = SenderPrivateCloud, from, ""
		d.Findings = append(d.Findings, Finding{CodePrivateCloud, fmt.Sprintf(
			"Private cloud with its own SMTP gateway %s: mail from %s leaves through the customer's gateway, so no change is needed and no SPF or DMARC check was run.", c.Gateway, cd)})
		return d, nil
	}
	if within(cd, p.platform) {
		d.Choice, d.From = SenderDefault, from
		d.Findings = append(d.Findings, Finding{CodeNoCustomerSender, fmt.Sprintf("The configured sender %s is in the platform domain: no check is needed.", from)})
		return d, nil
	}
	if dmarc.OrganizationalDomain(cd) == dmarc.OrganizationalDomain(p.corporate) {
		d.fallBack(from, Finding{CodeCorporateSender, fmt.Sprintf("The configured sender %s is in the corporate domain %s, which platform email never uses.", from, p.corporate)})
		p.logDecision(ctx, app, from, d)
		return d, nil
	}
	if err := p.check(ctx, d, a, c, from, cd); err != nil {
		return nil, err
	}
	p.logDecision(ctx, app, from, d)
	return d, nil
}

// An SPFCheck is the SPF verdict of a customer's record for one platform
// sending address: plain data.
type SPFCheck struct {
	// IP is the address checked; Network the platform network it stands
	// for (its first or last address).
	IP      netip.Addr
	Network netip.Prefix
	// Result is the verdict of the SPF verifier.
	Result spf.Result
	// Explanation says which term decided it, with the lookups it cost.
	Explanation *spf.Explanation
}

// A senderCheck is the state of the checks of a customer's own From: what
// is checked and what each step found.
type senderCheck struct {
	d      *Decision
	app    Application
	from   string   // the customer's address
	domain string   // its domain, in A-labels
	dkim   bool     // Customer.DKIM
	probes []probe  // the platform addresses checked
	sigs   []string // the d= domains the mail would be signed with
	// spfOK: every probe passes SPF; dmarcOK: the DMARC verdict is a pass;
	// dmarcFails: it is a fail (neither holds for a temperror).
	spfOK, dmarcOK, dmarcFails bool
}

// check runs the SPF and DMARC checks of a customer's own From domain cd
// and completes d: the customer's From, or the fallback with its fix.
func (p *Policy) check(ctx context.Context, d *Decision, a Application, c Customer, from, cd string) error {
	k := &senderCheck{d: d, app: a, from: from, domain: cd, dkim: c.DKIM}
	probes, err := p.probes(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.fallBack(from, Finding{CodeSPFError, fmt.Sprintf("The platform's own sending addresses could not be read: %v.", err)})
		return nil
	}
	k.probes = p.probesFor(ctx, p.resolver, cd, probes)
	if err := p.checkSPF(ctx, k); err != nil {
		return err
	}
	k.sigs = p.signingDomains(ctx, k)
	if err := p.checkDMARC(ctx, k); err != nil {
		return err
	}
	if k.spfOK && k.dmarcOK {
		d.Choice, d.From = SenderCustomer, from
		if slices.Contains(k.sigs, cd) {
			d.DKIMDomain = cd
		}
		return nil
	}
	d.fallBack(from)
	if a.ID == ScheduledReports && k.dmarcFails {
		trap := Finding{CodeScheduledReportTrap, fmt.Sprintf(
			"Scheduled-report trap: the report's sender %s is the customer's own domain, but the report leaves through the platform, so DMARC alignment fails at %s's gateway; use the platform sender %s.", from, cd, d.From)}
		d.Findings = append([]Finding{trap}, d.Findings...)
	}
	d.Fix, err = p.fix(ctx, k)
	return err
}

// fallBack makes d the application's default sender with the customer's
// address from as Reply-To, for the reasons f.
func (d *Decision) fallBack(from string, f ...Finding) {
	d.Choice, d.ReplyTo = SenderFallback, from
	d.Findings = append(d.Findings, f...)
}

// checkSPF checks every probe against the customer's SPF record, with a
// finding for each that does not pass.
func (p *Policy) checkSPF(ctx context.Context, k *senderCheck) error {
	var err error
	if k.d.SPF, err = p.verdicts(ctx, p.spf, k.domain, k.from, k.probes); err != nil {
		return err
	}
	k.spfOK = true
	for _, v := range k.d.SPF {
		if v.Result == spf.Pass {
			continue
		}
		k.spfOK = false
		code := CodeSPFNotAuthorised
		if v.Result == spf.TempError || v.Result == spf.PermError {
			code = CodeSPFError
		}
		k.d.Findings = append(k.d.Findings, Finding{code, spfFinding(k.domain, v)})
	}
	return nil
}

// signingDomains returns the d= domains the customer's mail would be signed
// with: the platform's, and the customer's own when it wants it and has
// published the platform's key (a finding says why not otherwise).
func (p *Policy) signingDomains(ctx context.Context, k *senderCheck) []string {
	sigs := []string{p.dkimDomain}
	if !k.dkim {
		return sigs
	}
	switch ok, err := p.dkimPublished(ctx, k.domain); {
	case err != nil:
		k.d.Findings = append(k.d.Findings, Finding{CodeDKIMKeyMissing, fmt.Sprintf("The DKIM key of %s could not be read: %v.", k.domain, err)})
	case !ok:
		k.d.Findings = append(k.d.Findings, Finding{CodeDKIMKeyMissing, fmt.Sprintf("%s has not published the platform's DKIM key, so mail cannot be signed with it.", k.domain)})
	default:
		sigs = append(sigs, k.domain)
	}
	return sigs
}

// checkDMARC runs the DMARC preflight of the customer's From as the
// platform would send it, with a finding unless it passes.
func (p *Policy) checkDMARC(ctx context.Context, k *senderCheck) error {
	mailFrom := k.from
	if p.bounce != "" {
		mailFrom = k.app.LocalPart + "@" + p.bounce
	}
	verdict, err := p.dmarcVerdict(ctx, k.d.SPF, k.from, k.domain, mailFrom, k.sigs)
	if err != nil {
		return err
	}
	k.d.DMARC = verdict
	k.dmarcOK, k.dmarcFails = verdict.Pass(), verdict.fails()
	switch {
	case k.dmarcFails:
		k.d.Findings = append(k.d.Findings, Finding{CodeDMARCFails, verdict.Summary()})
	case !k.dmarcOK:
		// A temperror is not a fail: the fallback is the safe choice, but
		// nothing says the customer's domain is wrong.
		k.d.Findings = append(k.d.Findings, Finding{CodeDMARCError, verdict.Summary()})
	}
	return nil
}

// fix returns the change that would let the customer's own From be used
// after a fallback: the SPF record to publish, the allow-list entries for
// the fallback's domains, the DKIM key record, and for the scheduled-report
// trap the sender to configure.
func (p *Policy) fix(ctx context.Context, k *senderCheck) (*Fix, error) {
	fix := &Fix{Domain: k.domain}
	if k.app.ID == ScheduledReports && k.dmarcFails {
		fix.Sender = k.d.From
	}
	if !k.spfOK {
		m, err := p.mergeSPF(ctx, k.domain, k.probes)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			k.d.Findings = append(k.d.Findings, Finding{CodeSPFError, fmt.Sprintf("No SPF record can be proposed: %v.", err)})
		default:
			fix.SPF = m
		}
	}
	fix.AllowList = append(fix.AllowList, "*@"+p.platform)
	if dom := k.d.From[strings.LastIndexByte(k.d.From, '@')+1:]; dom != p.platform {
		fix.AllowList = append(fix.AllowList, "*@"+dom)
	}
	if rec, ok := p.DKIMRecord(k.domain); ok && !slices.Contains(k.sigs, k.domain) {
		fix.DKIM = &rec
	}
	return fix, nil
}

// String returns the verdict on one line: "192.0.2.10: pass (ip4:192.0.2.0/24
// matched in customer.example)".
func (c SPFCheck) String() string {
	return fmt.Sprintf("%s: %s%s", c.IP, c.Result, c.why())
}

// why says which term or failure decided the check, in parentheses, or "".
func (c SPFCheck) why() string {
	x := c.Explanation
	switch {
	case x == nil:
	case x.Match != nil:
		return fmt.Sprintf(" (%s matched in %s)", x.Match.Term, x.Match.Domain)
	case x.Err != nil:
		return fmt.Sprintf(" (%v)", x.Err)
	case c.Result == spf.None:
		return " (no SPF record)"
	case c.Result == spf.Neutral:
		return " (no term matched)"
	}
	return ""
}

// spfFinding says in a sentence why an address does not pass.
func spfFinding(domain string, v SPFCheck) string {
	return fmt.Sprintf("SPF: %s gives %s for the platform address %s%s, not pass.", domain, v.Result, v.IP, v.why())
}
