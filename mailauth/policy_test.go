package mailauth_test

import (
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

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
	if err != nil {
		t.Fatalf("NewPolicy(valid) = %v; want nil", err)
	}
	if got, want := p.PlatformDomain(), "platform.example"; got != want {
		t.Errorf("PlatformDomain() = %q; want %q", got, want)
	}
	want := []mailauth.App{mailauth.AccountManagement, mailauth.ScanNotifications, mailauth.VulnerabilityFeed, mailauth.AlertEmails, mailauth.ScheduledReports}
	if got := p.Applications(); !slices.Equal(got, want) {
		t.Errorf("Applications() = %v; want %v", got, want)
	}
	for _, id := range want {
		a, err := p.Application(id)
		if err != nil {
			t.Fatalf("Application(%q) = %v", id, err)
		}
		if a.Domain != "platform.example" || a.LocalPart != "noreply" || a.Name != string(id) {
			t.Errorf("Application(%q) = %+v; want domain platform.example, local part noreply, name %s", id, a, id)
		}
	}
	if _, err := p.Application("billing"); !errors.Is(err, mailauth.ErrUnknownApp) {
		t.Errorf("Application(%q) = %v; want ErrUnknownApp", "billing", err)
	}
}

func TestNewPolicySendingIPsNormalised(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.SendingIPs = []netip.Prefix{netip.MustParsePrefix("198.51.100.7/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.1/32")}
	p, err := mailauth.NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.1/32")}
	if got := p.SendingIPs(); !slices.Equal(got, want) {
		t.Errorf("SendingIPs() = %v; want %v", got, want)
	}
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
			if !errors.As(err, &pe) {
				t.Fatalf("NewPolicy(%s) = %v; want a *PolicyError", tt.name, err)
			}
			if pe.Field != tt.field {
				t.Errorf("NewPolicy(%s).Field = %q; want %q (error %q)", tt.name, pe.Field, tt.field, err)
			}
			if got := errors.Is(err, mailauth.ErrCorporateDomain); got != tt.corporate {
				t.Errorf("errors.Is(NewPolicy(%s), ErrCorporateDomain) = %v; want %v", tt.name, got, tt.corporate)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "mailauth: PolicyConfig."+tt.field+" ") {
				t.Errorf("NewPolicy(%s) = %q; want it to start with the package and the field", tt.name, msg)
			}
		})
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
	if err == nil || err.Error() != want {
		t.Errorf("NewPolicy(corporate sender) = %v; want %s", err, want)
	}
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
	if err != nil {
		t.Fatalf("NewPolicy(migration from corporate) = %v; want nil", err)
	}
	a, _ := p.Application(mailauth.ScanNotifications)
	if a.Migration == nil || a.Migration.New != "platform.example" {
		t.Errorf("Application(scan-notifications).Migration = %+v; want New defaulted to platform.example", a.Migration)
	}
}

func TestNewPolicyIncludeOnly(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.SendingIPs, cfg.SPFInclude = nil, "_spf.platform.example"
	if _, err := mailauth.NewPolicy(cfg); err != nil {
		t.Errorf("NewPolicy(include only) = %v; want nil", err)
	}
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
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "mailauth: PolicyConfig.") {
				t.Fatalf("NewPolicy(%q, %q, %q) = %v; want a *PolicyError", corporate, platform, app, err)
			}
			return
		}
		d, err := p.Domain(mailauth.AlertEmails)
		if err != nil {
			t.Fatal(err)
		}
		corp := p.CorporateDomain()
		if d == corp || strings.HasSuffix(d, "."+corp) || strings.HasSuffix(corp, "."+d) {
			t.Errorf("NewPolicy(%q, %q, %q) accepted sending from %q next to the corporate domain %q", corporate, platform, app, d, corp)
		}
		if d != p.PlatformDomain() && !strings.HasSuffix(d, "."+p.PlatformDomain()) {
			t.Errorf("NewPolicy(%q, %q, %q) sends from %q, outside the platform domain %q", corporate, platform, app, d, p.PlatformDomain())
		}
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
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.CorporateDomain(), "xn--bcher-kva.example"; got != want {
		t.Errorf("CorporateDomain() = %q; want %q", got, want)
	}
	if got, want := p.PlatformDomain(), "xn--bcher-kunde-thb.example"; got != want {
		t.Errorf("PlatformDomain() = %q; want %q", got, want)
	}
	cfg.PlatformDomain = "news.xn--BCHER-KVA.example" // the corporate domain, as an A-label
	if _, err := mailauth.NewPolicy(cfg); !errors.Is(err, mailauth.ErrCorporateDomain) {
		t.Errorf("NewPolicy(platform under the corporate domain, U-label against A-label) = %v; want ErrCorporateDomain", err)
	}
	cfg.PlatformDomain = "xn--zz.example"
	var pe *mailauth.PolicyError
	if _, err := mailauth.NewPolicy(cfg); !errors.As(err, &pe) || pe.Field != "PlatformDomain" {
		t.Errorf("NewPolicy(PlatformDomain %q) = %v; want a PolicyError naming PlatformDomain", cfg.PlatformDomain, err)
	}
}
