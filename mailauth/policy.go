package mailauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/publicsuffix"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// An App identifies a platform application that sends email: account
// management, scan notifications and so on. Each has its own default sender
// domain and may migrate to a new one on its own date (see [Migration]).
//
// The zero value names no application; Policy methods refuse it with
// ErrUnknownApp.
type App string

// The platform applications a [PolicyConfig] knows by default, those the
// platform's bulk mail comes from.
const (
	AccountManagement App = "account-management"
	ScanNotifications App = "scan-notifications"
	VulnerabilityFeed App = "vulnerability-feed"
	AlertEmails       App = "alert-emails"
	// ScheduledReports is special: a report sender configured by the customer
	// in its own domain is the classic DMARC trap (see [Policy.Sender]).
	ScheduledReports App = "scheduled-reports"
)

// An Application is a platform application that sends email and the sender
// address it sends from by default. Its zero value is not valid: ID is
// required; every other field has a default.
//
// It is plain data; NewPolicy copies it.
type Application struct {
	// ID identifies the application; required and unique within a policy.
	ID App
	// Name is its display name in reports; the default is the ID.
	Name string
	// FromName is the display name of the From of its mail, such as
	// "Security Alerts": [Policy.Sender] then chooses `"Security Alerts"
	// <noreply@platform.example>` rather than the bare address, formatted
	// by net/mail (quoted when it holds specials such as a comma, RFC 2047
	// encoded when not ASCII), whichever address it chooses. At most 256
	// octets of UTF-8 without control characters; the default is none.
	FromName string
	// LocalPart is the local part of its default sender address; the default
	// is "noreply".
	LocalPart string
	// Domain is the domain it sends from when it has no Migration. It must be
	// the platform domain or a subdomain of it; the default is
	// PolicyConfig.PlatformDomain. Leave it empty when Migration is set.
	Domain string
	// Migration, when set, moves the application's default sender domain from
	// an old domain to a new one on a date.
	Migration *Migration
}

// A DKIMKey is the platform's key for signing mail in a customer's own
// domain, once the customer has published its public half. It lets a
// customer's From align through DKIM, which survives forwarding where SPF
// does not. Both fields are required.
//
// The zero value is not valid; NewPolicy copies the struct (not the key,
// which must not change).
type DKIMKey struct {
	// Selector is the selector under which customers publish the key
	// (<Selector>._domainkey.<customer domain>); required.
	Selector string
	// PublicKey is an *rsa.PublicKey or an ed25519.PublicKey; required.
	PublicKey any
}

// PolicyConfig configures a [Policy]. Its zero value is not enough: the
// corporate domain, the platform domain and the platform's sending IPs or SPF
// include are required; every other field has a working default.
//
// Every domain may be given with U-labels ("bücher.example") or A-labels
// ("xn--bcher-kva.example"), in any case, with or without a trailing dot;
// the Policy keeps and reports the lower-case A-label form, the one DNS
// holds (converted as package alerts converts recipient domains).
//
// NewPolicy copies what it keeps, so the caller may reuse the PolicyConfig.
type PolicyConfig struct {
	// CorporateDomain is the organisation's corporate mail domain (say
	// "qualys.com"). Platform email never sends from it, from a subdomain of
	// it, nor from a domain sharing its organizational domain: its
	// reputation and DMARC policy stay the corporate mail's. Required.
	CorporateDomain string
	// PlatformDomain is the domain dedicated to the platform's bulk email
	// (say "qualys.net"). Required.
	PlatformDomain string
	// SendingIPs are the networks platform email leaves from. A customer's
	// own From domain is used only when its SPF record gives pass for each
	// of them: for a network, its first and last addresses and each address
	// where the customer's ip4/ip6 terms divide it are checked.
	// At least one of SendingIPs and SPFInclude is required; with both, the
	// DNS fix proposes the include and falls back to these networks when the
	// include would exceed the 10-lookup limit.
	SendingIPs []netip.Prefix
	// SPFInclude is the domain whose SPF record lists the sending IPs (say
	// "_spf.qualys.net"), for customers to include: with it the platform can
	// change its IPs without asking every customer to edit DNS. Without
	// SendingIPs, the addresses it authorises are learnt from it by
	// evaluation (only ip4 and ip6 terms are read).
	SPFInclude string
	// DKIMDomain is the d= domain of the platform's DKIM signatures. It must
	// align with PlatformDomain (share its organizational domain), so
	// platform mail passes DMARC by DKIM. The default is PlatformDomain.
	DKIMDomain string
	// BounceDomain is the domain of the envelope sender (RFC 5321
	// MAIL FROM) of mail sent under a customer's own From. Empty, the
	// default, means the From address itself is the envelope sender: that
	// is what lets SPF align once the customer has authorised the platform's
	// IPs. Set to a platform domain, SPF cannot align and only DKIM with
	// CustomerDKIM can.
	BounceDomain string
	// CustomerDKIM, when set, is the key the platform signs customer-domain
	// mail with once the customer has published it; reports then advise the
	// record to publish. Nil means the platform does not sign with customers'
	// domains.
	CustomerDKIM *DKIMKey
	// Applications are the platform's applications. The default is the five
	// of the constants above (AccountManagement, ScanNotifications,
	// VulnerabilityFeed, AlertEmails, ScheduledReports), each sending from
	// noreply@PlatformDomain.
	Applications []Application
	// Resolver answers the DNS queries of the SPF and DMARC checks; the
	// default is net.DefaultResolver. A dnsclient.Resolver is better: it
	// sends every name SPF macros can produce and tells a missing name
	// from a failed lookup.
	Resolver Resolver
	// Clock tells the time for migrations; nil means time.Now.
	Clock Clock
	// MeterProvider gives the metrics of the SPF checks and DMARC
	// evaluations it runs (alertmail.spf.checks, alertmail.dmarc.evaluations).
	// Nil means none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives those checks their spans (alertmail.spf.check
	// with its lookup count, alertmail.dmarc.evaluate) within a recording
	// span of the caller's. Nil means none, the no-op provider; never the
	// global one.
	TracerProvider trace.TracerProvider
	// Logger receives a record of each sender decision: Info for a fallback from the customer's own From, with the codes of the findings that say why, Debug otherwise, naming the customer's domain, never its address; and the Debug records of the checks. Nil means none, quiet.
	Logger *slog.Logger
}

// ErrCorporateDomain is the condition of a [PolicyError] for a platform
// email configured to send from the corporate domain, one of its subdomains,
// or a domain of the same organization.
var ErrCorporateDomain = errors.New("mailauth: platform email must not send from the corporate domain")

// A PolicyError reports a [PolicyConfig] field that [NewPolicy] rejected.
//
// It is plain data; the zero value formats as an error about an unnamed
// field.
type PolicyError struct {
	// Field is the path of the bad field, such as "Applications[2].Domain".
	Field string
	// Value is the bad value as given.
	Value string
	// Reason says what is wrong with it.
	Reason string
	// Err is the sentinel it matches with errors.Is ([ErrCorporateDomain]),
	// or nil.
	Err error
}

// Error returns "mailauth: PolicyConfig.<Field> <value>: <reason>".
func (e *PolicyError) Error() string {
	return fmt.Sprintf("mailauth: PolicyConfig.%s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns e.Err.
func (e *PolicyError) Unwrap() error { return e.Err }

// A Policy is the sender-domain policy: which domain each platform
// application sends from at a given time, and when a customer's own From
// domain may be used instead (see [Policy.Sender]).
//
// Create one with [NewPolicy]; the zero value is not usable. A Policy is
// immutable once made and safe for concurrent use (its Resolver and Clock
// must be too).
type Policy struct {
	corporate, platform string
	ips                 []netip.Prefix
	include             string
	dkimDomain          string
	bounce              string
	customerDKIM        *DKIMKey
	apps                []Application
	resolver            Resolver
	clock               Clock
	preflight           *Preflight
	spf                 *spf.Checker // the checks of customers' records, as resolver serves them
	log                 *slog.Logger // nil: none
}

// defaultApplications are the applications of a PolicyConfig without any.
var defaultApplications = [...]App{AccountManagement, ScanNotifications, VulnerabilityFeed, AlertEmails, ScheduledReports}

// NewPolicy validates cfg and returns its Policy. The error, a *PolicyError,
// names the first bad field; one that would make platform email send from
// the corporate domain matches [ErrCorporateDomain].
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{resolver: cfg.Resolver, clock: cfg.Clock, log: cfg.Logger}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	if p.clock == nil {
		p.clock = ClockFunc(time.Now)
	}
	// In the order of PolicyConfig's fields, so the first bad one is named.
	for _, set := range []func(*PolicyConfig) error{
		p.setDomains, p.setSending, p.setDKIMDomain, p.setBounceDomain, p.setCustomerDKIM, p.setApplications,
	} {
		if err := set(&cfg); err != nil {
			return nil, err
		}
	}
	// Last, once the configuration is valid: the checkers register their
	// metrics with the provider.
	obs := observability{cfg.MeterProvider, cfg.TracerProvider, cfg.Logger}
	var err error
	if p.preflight, err = newPreflight(p.resolver, obs); err != nil {
		return nil, err
	}
	if p.spf, err = spf.New(obs.spfConfig(p.resolver)); err != nil {
		return nil, fmt.Errorf("mailauth: %w", err)
	}
	return p, nil
}

// setDomains keeps the corporate and platform domains, which must differ
// in organization.
func (p *Policy) setDomains(cfg *PolicyConfig) error {
	var err error
	if p.corporate, err = configDomain("CorporateDomain", cfg.CorporateDomain, domain.Host); err != nil {
		return err
	}
	if p.platform, err = configDomain("PlatformDomain", cfg.PlatformDomain, domain.Host); err != nil {
		return err
	}
	return p.checkNotCorporate("PlatformDomain", cfg.PlatformDomain, p.platform)
}

// setSending keeps the sending networks and the SPF include, at least one
// of the two.
func (p *Policy) setSending(cfg *PolicyConfig) error {
	for i, ip := range cfg.SendingIPs {
		field := fmt.Sprintf("SendingIPs[%d]", i)
		if !ip.IsValid() {
			return &PolicyError{Field: field, Value: ip.String(), Reason: "not a valid network"}
		}
		if ip.Addr().Is4In6() {
			return &PolicyError{Field: field, Value: ip.String(), Reason: "an IPv4-mapped IPv6 network; give the IPv4 network"}
		}
		if ip = ip.Masked(); !slices.Contains(p.ips, ip) {
			p.ips = append(p.ips, ip)
		}
	}
	if cfg.SPFInclude != "" {
		var err error
		if p.include, err = configDomain("SPFInclude", cfg.SPFInclude, domain.DNS); err != nil {
			return err
		}
	}
	if len(p.ips) == 0 && p.include == "" {
		return &PolicyError{Field: "SendingIPs", Value: "", Reason: "neither SendingIPs nor SPFInclude is set; the policy cannot check a customer's SPF record"}
	}
	return nil
}

// setDKIMDomain keeps the platform's signing domain, which must align with
// the platform domain.
func (p *Policy) setDKIMDomain(cfg *PolicyConfig) error {
	p.dkimDomain = p.platform
	if cfg.DKIMDomain == "" {
		return nil
	}
	var err error
	if p.dkimDomain, err = configDomain("DKIMDomain", cfg.DKIMDomain, domain.Host); err != nil {
		return err
	}
	if err := p.checkNotCorporate("DKIMDomain", cfg.DKIMDomain, p.dkimDomain); err != nil {
		return err
	}
	if dmarc.OrganizationalDomain(p.dkimDomain) != dmarc.OrganizationalDomain(p.platform) {
		return &PolicyError{Field: "DKIMDomain", Value: cfg.DKIMDomain,
			Reason: fmt.Sprintf("does not align with the platform domain %s, so platform email would fail DMARC by DKIM", p.platform)}
	}
	return nil
}

// setBounceDomain keeps the envelope sender's domain, if any.
func (p *Policy) setBounceDomain(cfg *PolicyConfig) error {
	if cfg.BounceDomain == "" {
		return nil
	}
	var err error
	if p.bounce, err = configDomain("BounceDomain", cfg.BounceDomain, domain.Host); err != nil {
		return err
	}
	return p.checkNotCorporate("BounceDomain", cfg.BounceDomain, p.bounce)
}

// setCustomerDKIM keeps a copy of the customer-domain signing key, if any.
func (p *Policy) setCustomerDKIM(cfg *PolicyConfig) error {
	k := cfg.CustomerDKIM
	if k == nil {
		return nil
	}
	if err := domain.Check(k.Selector, domain.DNS); err != nil {
		return &PolicyError{Field: "CustomerDKIM.Selector", Value: k.Selector, Reason: "is not a DNS label (" + err.Error() + ")"}
	}
	if strings.Contains(k.Selector, ".") {
		return &PolicyError{Field: "CustomerDKIM.Selector", Value: k.Selector, Reason: "is not one label"}
	}
	if _, err := dkimKeyText(k.PublicKey); err != nil {
		return &PolicyError{Field: "CustomerDKIM.PublicKey", Value: fmt.Sprintf("%T", k.PublicKey), Reason: err.Error()}
	}
	kk := *k
	kk.Selector = strings.ToLower(k.Selector)
	p.customerDKIM = &kk
	return nil
}

// setApplications keeps the applications with their defaults filled in,
// the five default ones when there are none.
func (p *Policy) setApplications(cfg *PolicyConfig) error {
	apps := cfg.Applications
	if len(apps) == 0 {
		for _, id := range defaultApplications {
			apps = append(apps, Application{ID: id})
		}
	}
	for i, a := range apps {
		a, err := p.application(i, a)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(p.apps, func(b Application) bool { return b.ID == a.ID }) {
			return &PolicyError{Field: fmt.Sprintf("Applications[%d].ID", i), Value: string(a.ID), Reason: "appears twice"}
		}
		p.apps = append(p.apps, a)
	}
	return nil
}

// application validates a and returns it with its defaults filled in.
func (p *Policy) application(i int, a Application) (Application, error) {
	field := fmt.Sprintf("Applications[%d]", i)
	if a.ID == "" {
		return a, &PolicyError{Field: field + ".ID", Value: "", Reason: "is empty"}
	}
	field = fmt.Sprintf("Applications[%d] (%s)", i, a.ID)
	if a.Name == "" {
		a.Name = string(a.ID)
	}
	if reason := fromNameReason(a.FromName); reason != "" {
		return a, &PolicyError{Field: field + ".FromName", Value: a.FromName, Reason: reason}
	}
	if a.LocalPart == "" {
		a.LocalPart = "noreply"
	}
	if !validLocalPart(a.LocalPart) {
		return a, &PolicyError{Field: field + ".LocalPart", Value: a.LocalPart, Reason: "not a valid unquoted local part"}
	}
	if a.Migration != nil {
		if a.Domain != "" {
			return a, &PolicyError{Field: field + ".Domain", Value: a.Domain, Reason: "set together with Migration; the migration's Old and New domains apply, leave Domain empty"}
		}
		m := *a.Migration
		var err error
		if m.Old, err = configDomain(field+".Migration.Old", m.Old, domain.Host); err != nil {
			return a, err
		}
		if m.New == "" {
			m.New = p.platform
		} else if m.New, err = p.platformSender(field+".Migration.New", m.New); err != nil {
			return a, err
		}
		if m.At.IsZero() {
			return a, &PolicyError{Field: field + ".Migration.At", Value: "", Reason: "is zero; a migration needs its effective instant"}
		}
		if m.Old == m.New {
			return a, &PolicyError{Field: field + ".Migration.New", Value: m.New, Reason: "is the same domain as Migration.Old"}
		}
		a.Migration = &m
		return a, nil
	}
	if a.Domain == "" {
		a.Domain = p.platform
		return a, nil
	}
	var err error
	a.Domain, err = p.platformSender(field+".Domain", a.Domain)
	return a, err
}

// platformSender validates a domain that platform email is sent from: never
// the corporate domain, always within the platform domain.
func (p *Policy) platformSender(field, raw string) (string, error) {
	d, err := configDomain(field, raw, domain.Host)
	if err != nil {
		return "", err
	}
	if err := p.checkNotCorporate(field, raw, d); err != nil {
		return "", err
	}
	if !within(d, p.platform) {
		return "", &PolicyError{Field: field, Value: raw, Reason: fmt.Sprintf("is not the platform domain %s nor a subdomain of it", p.platform)}
	}
	return d, nil
}

// checkNotCorporate rejects a domain in the corporate domain's organization.
func (p *Policy) checkNotCorporate(field, raw, d string) error {
	switch {
	case d == p.corporate:
		return &PolicyError{Field: field, Value: raw, Reason: "is the corporate domain; platform email must be sent from the platform domain", Err: ErrCorporateDomain}
	case within(d, p.corporate):
		return &PolicyError{Field: field, Value: raw, Reason: fmt.Sprintf("is a subdomain of the corporate domain %s; platform email must be sent from the platform domain", p.corporate), Err: ErrCorporateDomain}
	case dmarc.OrganizationalDomain(d) == dmarc.OrganizationalDomain(p.corporate):
		return &PolicyError{Field: field, Value: raw, Reason: fmt.Sprintf("shares the organizational domain %s with the corporate domain, so DMARC ties it to corporate mail", dmarc.OrganizationalDomain(d)), Err: ErrCorporateDomain}
	}
	return nil
}

// Domain returns the domain app sends from now, by the policy's clock.
func (p *Policy) Domain(app App) (string, error) {
	return p.DomainAt(app, p.clock.Now())
}

// DomainAt returns the domain app sends from at t: its migration's Old
// domain before the migration's instant, its New domain from that instant
// on (see [Migration.DomainAt]).
func (p *Policy) DomainAt(app App, t time.Time) (string, error) {
	a, err := p.Application(app)
	if err != nil {
		return "", err
	}
	if a.Migration != nil {
		return a.Migration.DomainAt(t), nil
	}
	return a.Domain, nil
}

// ErrUnknownApp is returned for an [App] the policy was not configured with.
var ErrUnknownApp = errors.New("mailauth: unknown application")

// Application returns app's configuration with its defaults filled in. The
// error for an app the policy does not know matches [ErrUnknownApp].
func (p *Policy) Application(app App) (Application, error) {
	for _, a := range p.apps {
		if a.ID == app {
			if a.Migration != nil {
				m := *a.Migration
				a.Migration = &m
			}
			return a, nil
		}
	}
	return Application{}, fmt.Errorf("%w %q", ErrUnknownApp, app)
}

// Applications returns the IDs of the policy's applications, in
// configuration order.
func (p *Policy) Applications() []App {
	ids := make([]App, len(p.apps))
	for i, a := range p.apps {
		ids[i] = a.ID
	}
	return ids
}

// PlatformDomain returns the platform's bulk domain, normalised.
func (p *Policy) PlatformDomain() string { return p.platform }

// CorporateDomain returns the corporate domain, normalised.
func (p *Policy) CorporateDomain() string { return p.corporate }

// SendingIPs returns the platform's sending networks, normalised.
func (p *Policy) SendingIPs() []netip.Prefix { return slices.Clone(p.ips) }

// configDomain normalises a domain of the configuration, of syntax s, or
// names the field.
func configDomain(field, raw string, s domain.Syntax) (string, error) {
	d, err := normalizeDomain(raw, s)
	if err != nil {
		return "", &PolicyError{Field: field, Value: raw, Reason: err.Error()}
	}
	return d, nil
}

// normalizeDomain returns raw, a fully qualified domain of syntax s that is
// not a public suffix, in lower case and without a trailing dot, or why it
// is not. The domains mail is sent from, and the gateways it leaves
// through, are host names (RFC 5321 section 2.3.5): [domain.Host]. Only a
// name that merely holds records, such as SPFInclude
// ("_spf.platform.example"), is a [domain.DNS] name.
func normalizeDomain(raw string, s domain.Syntax) (string, error) {
	if raw == "" {
		return "", errors.New("is empty")
	}
	// Internationalised names are accepted as U-labels and converted to
	// the A-label (xn--) form DNS and SPF records carry, with the IDNA
	// profile alerts uses for recipients.
	a, err := domain.Normalize(strings.TrimSuffix(raw, "."), s)
	if err != nil {
		return "", fmt.Errorf("is not a valid domain name (%v)", err)
	}
	if !strings.Contains(a, ".") {
		return "", errors.New("is not a fully qualified domain name")
	}
	if ps, _ := publicsuffix.PublicSuffix(a); ps == a {
		return "", errors.New("is a public suffix")
	}
	return a, nil
}

// fromNameReason says why name cannot be a From display name, or "".
func fromNameReason(name string) string {
	switch {
	case len(name) > 256:
		return "longer than 256 octets"
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "holds a control character such as CR or LF"
	}
	return ""
}

// validLocalPart reports whether s is a dot-atom local part (RFC 5322).
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

// within reports whether d is parent or a subdomain of it.
func within(d, parent string) bool {
	return d == parent || strings.HasSuffix(d, "."+parent)
}
