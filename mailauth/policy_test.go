package mailauth_test

import (
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
)

// validConfig is a configuration modelled on the seed's platform: the
// corporate domain corp.example, the bulk domain platform.example.
func validConfig() mailauth.PolicyConfig {
	return mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::25/128")},
	}
}

func TestNewPolicyDefaults(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.PlatformDomain = "Platform.Example."
	p, err := mailauth.NewPolicy(cfg)
	require.NoErrorf(t, err, "NewPolicy(valid) = %v; want nil", err)
	assert.Equalf(t, "platform.example", p.PlatformDomain(), "PlatformDomain() = %q; want %q", p.PlatformDomain(), "platform.example")
	want := []mailauth.App{mailauth.AccountManagement, mailauth.ScanNotifications, mailauth.VulnerabilityFeed, mailauth.AlertEmails, mailauth.ScheduledReports}
	assert.Equalf(t, want, p.Applications(), "Applications() = %v; want %v", p.Applications(), want)
	for _, id := range want {
		a, err := p.Application(id)
		require.NoErrorf(t, err, "Application(%q) = %v", id, err)
		assert.Truef(t, a.Domain == "platform.example" && a.LocalPart == "noreply" && a.Name == string(id),
			"Application(%q) = %+v; want domain platform.example, local part noreply, name %s", id, a, id)
	}
	_, err = p.Application("billing")
	assert.ErrorIsf(t, err, mailauth.ErrUnknownApp, "Application(%q) = %v; want ErrUnknownApp", "billing", err)
}

func TestNewPolicySendingIPsNormalised(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.SendingIPs = []netip.Prefix{netip.MustParsePrefix("198.51.100.7/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.1/32")}
	p, err := mailauth.NewPolicy(cfg)
	require.NoError(t, err, "NewPolicy")
	want := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.1/32")}
	assert.Equalf(t, want, p.SendingIPs(), "SendingIPs() = %v; want %v", p.SendingIPs(), want)
}

func TestNewPolicyRejects(t *testing.T) {
	t.Parallel()
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	// GenerateKey refuses keys this small; a 512-bit modulus is enough to
	// stand for one.
	small := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 511), E: 65537}
	tests := []struct {
		name      string
		edit      func(*mailauth.PolicyConfig)
		field     string
		corporate bool // want ErrCorporateDomain
	}{
		{"no corporate domain", func(c *mailauth.PolicyConfig) { c.CorporateDomain = "" }, "CorporateDomain", false},
		{"no platform domain", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "" }, "PlatformDomain", false},
		{"platform domain is a TLD", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "net" }, "PlatformDomain", false},
		{"platform domain is a public suffix", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "co.uk" }, "PlatformDomain", false},
		{"platform domain with a space", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "plat form.example" }, "PlatformDomain", false},
		// The mail domains are host names (RFC 5321): no "_".
		{"corporate domain with an underscore", func(c *mailauth.PolicyConfig) { c.CorporateDomain = "corp_1.example" }, "CorporateDomain", false},
		{"platform domain with an underscore", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "mail_1.example" }, "PlatformDomain", false},
		{"DKIM domain with an underscore", func(c *mailauth.PolicyConfig) { c.DKIMDomain = "dkim_1.platform.example" }, "DKIMDomain", false},
		{"bounce domain with an underscore", func(c *mailauth.PolicyConfig) { c.BounceDomain = "_bounces.platform.example" }, "BounceDomain", false},
		{"application domain with an underscore", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AlertEmails, Domain: "alerts_1.platform.example"}}
		}, "Applications[0] (alert-emails).Domain", false},
		{"migration from a domain with an underscore", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{Old: "old_1.example", At: at}}}
		}, "Applications[0] (account-management).Migration.Old", false},
		{"migration to a domain with an underscore", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{Old: "corp.example", New: "new_1.platform.example", At: at}}}
		}, "Applications[0] (account-management).Migration.New", false},
		{"platform domain is the corporate domain", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "CORP.example" }, "PlatformDomain", true},
		{"platform domain under the corporate domain", func(c *mailauth.PolicyConfig) { c.PlatformDomain = "bulk.corp.example" }, "PlatformDomain", true},
		{"platform domain shares the corporate organization", func(c *mailauth.PolicyConfig) {
			c.CorporateDomain, c.PlatformDomain = "www.qualys.com", "mail.qualys.com"
		}, "PlatformDomain", true},
		{"no IPs and no include", func(c *mailauth.PolicyConfig) { c.SendingIPs = nil }, "SendingIPs", false},
		{"invalid network", func(c *mailauth.PolicyConfig) { c.SendingIPs = append(c.SendingIPs, netip.Prefix{}) }, "SendingIPs[2]", false},
		{"IPv4-mapped network", func(c *mailauth.PolicyConfig) {
			c.SendingIPs = []netip.Prefix{netip.MustParsePrefix("::ffff:192.0.2.1/128")}
		}, "SendingIPs[0]", false},
		{"bad include", func(c *mailauth.PolicyConfig) { c.SPFInclude = "_spf..platform.example" }, "SPFInclude", false},
		{"DKIM domain is corporate", func(c *mailauth.PolicyConfig) { c.DKIMDomain = "corp.example" }, "DKIMDomain", true},
		{"DKIM domain does not align", func(c *mailauth.PolicyConfig) { c.DKIMDomain = "other.example" }, "DKIMDomain", false},
		{"bounce domain is corporate", func(c *mailauth.PolicyConfig) { c.BounceDomain = "bounces.corp.example" }, "BounceDomain", true},
		{"customer DKIM selector", func(c *mailauth.PolicyConfig) {
			c.CustomerDKIM = &mailauth.DKIMKey{Selector: "a.b", PublicKey: ed25519.PublicKey(make([]byte, 32))}
		}, "CustomerDKIM.Selector", false},
		{"customer DKIM key too small", func(c *mailauth.PolicyConfig) {
			c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: small}
		}, "CustomerDKIM.PublicKey", false},
		{"customer DKIM key of another type", func(c *mailauth.PolicyConfig) {
			c.CustomerDKIM = &mailauth.DKIMKey{Selector: "alertmail", PublicKey: "key"}
		}, "CustomerDKIM.PublicKey", false},
		{"application without ID", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{}}
		}, "Applications[0].ID", false},
		{"application twice", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AlertEmails}, {ID: mailauth.AlertEmails}}
		}, "Applications[1].ID", false},
		{"application from the corporate domain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.ScanNotifications, Domain: "corp.example"}}
		}, "Applications[0] (scan-notifications).Domain", true},
		{"application from a corporate subdomain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AlertEmails}, {ID: mailauth.ScanNotifications, Domain: "scans.corp.example"}}
		}, "Applications[1] (scan-notifications).Domain", true},
		{"application outside the platform domain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AlertEmails, Domain: "elsewhere.example"}}
		}, "Applications[0] (alert-emails).Domain", false},
		{"application with a bad local part", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AlertEmails, LocalPart: "no reply"}}
		}, "Applications[0] (alert-emails).LocalPart", false},
		{"migration to the corporate domain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{Old: "platform.example", New: "corp.example", At: at}}}
		}, "Applications[0] (account-management).Migration.New", true},
		{"migration and domain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Domain: "platform.example", Migration: &mailauth.Migration{Old: "corp.example", At: at}}}
		}, "Applications[0] (account-management).Domain", false},
		{"migration without instant", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{Old: "corp.example"}}}
		}, "Applications[0] (account-management).Migration.At", false},
		{"migration without old domain", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{At: at}}}
		}, "Applications[0] (account-management).Migration.Old", false},
		{"migration to where it is", func(c *mailauth.PolicyConfig) {
			c.Applications = []mailauth.Application{{ID: mailauth.AccountManagement, Migration: &mailauth.Migration{Old: "platform.example", At: at}}}
		}, "Applications[0] (account-management).Migration.New", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tt.edit(&cfg)
			_, err := mailauth.NewPolicy(cfg)
			var pe *mailauth.PolicyError
			require.ErrorAsf(t, err, &pe, "NewPolicy(%s) = %v; want a *PolicyError", tt.name, err)
			assert.Equalf(t, tt.field, pe.Field, "NewPolicy(%s).Field = %q; want %q (error %q)", tt.name, pe.Field, tt.field, err)
			got := errors.Is(err, mailauth.ErrCorporateDomain)
			assert.Equalf(t, tt.corporate, got, "errors.Is(NewPolicy(%s), ErrCorporateDomain) = %v; want %v", tt.name, got, tt.corporate)
			assert.Truef(t, strings.HasPrefix(err.Error(), "mailauth: PolicyConfig."+tt.field+" "),
				"NewPolicy(%s) = %q; want it to start with the package and the field", tt.name, err.Error())
		})
	}
}

// TestNewPolicyAcceptsDNSNames: a name that only holds records, the SPF
// include, may have "_" labels (RFC 8552); the mail domains may not.
func TestNewPolicyAcceptsDNSNames(t *testing.T) {
	t.Parallel()
	for _, include := range []string{"_spf.platform.example", "_IP4._spf.Platform.example.", "spf_1.platform.example"} {
		cfg := validConfig()
		cfg.SPFInclude = include
		_, err := mailauth.NewPolicy(cfg)
		assert.NoErrorf(t, err, "NewPolicy(SPFInclude %q) = %v; want nil", include, err)
	}
}

// TestNewPolicyCorporateMessage pins the message a misconfigured platform
// gets, since operators read it.
func TestNewPolicyCorporateMessage(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.Applications = []mailauth.Application{{ID: mailauth.ScanNotifications, Domain: "corp.example"}}
	_, err := mailauth.NewPolicy(cfg)
	want := `mailauth: PolicyConfig.Applications[0] (scan-notifications).Domain "corp.example": is the corporate domain; platform email must be sent from the platform domain`
	assert.EqualErrorf(t, err, want, "NewPolicy(corporate sender) = %v; want %s", err, want)
}

func TestNewPolicyMigrationFromCorporate(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	// Moving off the corporate domain is what a migration is for: its Old
	// domain may be the corporate one.
	cfg.Applications = []mailauth.Application{
		{ID: mailauth.ScanNotifications, Migration: &mailauth.Migration{Old: "corp.example", At: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: mailauth.ScheduledReports, Domain: "reports.platform.example", LocalPart: "reports"},
	}
	p, err := mailauth.NewPolicy(cfg)
	require.NoErrorf(t, err, "NewPolicy(migration from corporate) = %v; want nil", err)
	a, _ := p.Application(mailauth.ScanNotifications)
	assert.Truef(t, a.Migration != nil && a.Migration.New == "platform.example",
		"Application(scan-notifications).Migration = %+v; want New defaulted to platform.example", a.Migration)
}

func TestNewPolicyIncludeOnly(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.SendingIPs, cfg.SPFInclude = nil, "_spf.platform.example"
	_, err := mailauth.NewPolicy(cfg)
	assert.NoErrorf(t, err, "NewPolicy(include only) = %v; want nil", err)
}

// FuzzNewPolicy feeds arbitrary domains to the configuration: never a
// panic, and an accepted configuration never lets platform mail leave
// from the corporate organization.
func FuzzNewPolicy(f *testing.F) {
	f.Add("corp.example", "platform.example", "reports.platform.example")
	f.Add("qualys.com", "qualys.net", "")
	f.Add("a.b.co.uk", "b.co.uk", "x.b.co.uk")
	f.Add("Corp.Example.", "PLATFORM.example", "corp.example")
	f.Add("xn--bcher-kva.example", "plat_form.example", "-bad-.platform.example")
	f.Fuzz(func(t *testing.T, corporate, platform, app string) {
		cfg := mailauth.PolicyConfig{
			CorporateDomain: corporate, PlatformDomain: platform,
			SendingIPs:   []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")},
			Applications: []mailauth.Application{{ID: mailauth.AlertEmails, Domain: app}},
		}
		p, err := mailauth.NewPolicy(cfg)
		if err != nil {
			var pe *mailauth.PolicyError
			require.Truef(t, errors.As(err, &pe) && strings.HasPrefix(err.Error(), "mailauth: PolicyConfig."),
				"NewPolicy(%q, %q, %q) = %v; want a *PolicyError", corporate, platform, app, err)
			return
		}
		d, err := p.Domain(mailauth.AlertEmails)
		require.NoError(t, err, "Domain(alert-emails)")
		corp := p.CorporateDomain()
		assert.Falsef(t, d == corp || strings.HasSuffix(d, "."+corp) || strings.HasSuffix(corp, "."+d),
			"NewPolicy(%q, %q, %q) accepted sending from %q next to the corporate domain %q", corporate, platform, app, d, corp)
		assert.Truef(t, d == p.PlatformDomain() || strings.HasSuffix(d, "."+p.PlatformDomain()),
			"NewPolicy(%q, %q, %q) sends from %q, outside the platform domain %q", corporate, platform, app, d, p.PlatformDomain())
		assert.NotContainsf(t, d, "_", "NewPolicy(%q, %q, %q) sends from %q, not a host name", corporate, platform, app, d)
	})
}

// TestNewPolicyInternationalized gives the domains as U-labels: they are
// kept as A-labels, and the corporate check compares those.
func TestNewPolicyInternationalized(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.CorporateDomain = "Bücher.example"
	cfg.PlatformDomain = "bücher-kunde.example."
	cfg.SPFInclude = "_spf.bücher-kunde.example"
	p, err := mailauth.NewPolicy(cfg)
	require.NoError(t, err, "NewPolicy(U-labels)")
	assert.Equalf(t, "xn--bcher-kva.example", p.CorporateDomain(), "CorporateDomain() = %q; want %q", p.CorporateDomain(), "xn--bcher-kva.example")
	assert.Equalf(t, "xn--bcher-kunde-thb.example", p.PlatformDomain(), "PlatformDomain() = %q; want %q", p.PlatformDomain(), "xn--bcher-kunde-thb.example")
	cfg.PlatformDomain = "news.xn--BCHER-KVA.example" // the corporate domain, as an A-label
	_, err = mailauth.NewPolicy(cfg)
	assert.ErrorIsf(t, err, mailauth.ErrCorporateDomain, "NewPolicy(platform under the corporate domain, U-label against A-label) = %v; want ErrCorporateDomain", err)
	cfg.PlatformDomain = "xn--zz.example"
	var pe *mailauth.PolicyError
	_, err = mailauth.NewPolicy(cfg)
	assert.Truef(t, errors.As(err, &pe) && pe.Field == "PlatformDomain",
		"NewPolicy(PlatformDomain %q) = %v; want a PolicyError naming PlatformDomain", cfg.PlatformDomain, err)
}
