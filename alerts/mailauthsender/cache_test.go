package mailauthsender_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/alerts/mailauthsender"
	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// dkimKey is the platform's key for customers' domains (and, in the DKIM
// test, its own), fixed so that the records are the same on every run.
var dkimKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// The customers of the tests, by tenant.
var customers = map[string]mailauth.Customer{
	// Authorises the platform and publishes its DKIM key: its own From,
	// signed as its own domain.
	"good": {From: "soc@good.example", DKIM: true},
	// Its SPF record misses a platform address: the platform's From, its
	// own address as Reply-To.
	"soft": {From: "soc@soft.example"},
	// No sender of its own.
	"plain": {},
	// Not an address.
	"broken": {From: "not an address"},
}

// world is a policy over in-memory DNS, with a fake clock and a Customer
// function that counts its calls.
type world struct {
	policy *mailauth.Policy
	dns    *mailauthtest.Resolver
	clock  *alertstest.Clock
	calls  atomic.Int32 // calls of the Customer function
}

func newWorld(t testing.TB, edit func(*mailauth.PolicyConfig)) *world {
	t.Helper()
	w := &world{clock: alertstest.NewClock(t0)}
	w.dns = mailauthtest.NewResolver(mailauthtest.Zones{
		"_spf.platform.example":   {mailauthtest.TXT("v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all")},
		"_dmarc.platform.example": {mailauthtest.TXT("v=DMARC1; p=reject")},
		"good.example":            {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_dmarc.good.example":     {mailauthtest.TXT("v=DMARC1; p=reject")},
		"soft.example":            {mailauthtest.TXT("v=spf1 ip4:192.0.2.10 ~all")},
		"_dmarc.soft.example":     {mailauthtest.TXT("v=DMARC1; p=quarantine")},
	})
	cfg := mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.11/32")},
		CustomerDKIM:    &mailauth.DKIMKey{Selector: "alertmail", PublicKey: dkimKey.Public()},
		Resolver:        w.dns,
		Clock:           w.clock,
	}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	w.policy, err = mailauth.NewPolicy(cfg)
	require.NoError(t, err, "NewPolicy")
	rec, ok := w.policy.DKIMRecord("good.example")
	require.True(t, ok, "DKIMRecord(good.example)")
	w.dns.Set(rec.Name, mailauthtest.TXT(rec.Text))
	return w
}

// customer is the Customer function of the tests: the table above, the
// alert-emails application.
func (w *world) customer(_ context.Context, tenant string) (mailauth.Customer, mailauth.App, error) {
	w.calls.Add(1)
	c, ok := customers[tenant]
	if !ok {
		return mailauth.Customer{}, "", fmt.Errorf("no customer for tenant %q", tenant)
	}
	return c, "", nil
}

func (w *world) cache(t testing.TB, edit func(*mailauthsender.Config)) *mailauthsender.Cache {
	t.Helper()
	cfg := mailauthsender.Config{Policy: w.policy, Customer: w.customer, Clock: w.clock}
	if edit != nil {
		edit(&cfg)
	}
	c, err := mailauthsender.New(cfg)
	require.NoError(t, err, "New")
	return c
}

func sender(t testing.TB, c *mailauthsender.Cache, tenant string) alerts.Sender {
	t.Helper()
	s, err := c.Sender(context.Background(), tenant, alerts.ActiveThreat)
	require.NoErrorf(t, err, "Sender(%q)", tenant)
	return s
}

// TestCacheChoices: the policy's decision for each kind of customer, with
// the display name on the From.
func TestCacheChoices(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cache(t, func(cfg *mailauthsender.Config) { cfg.DisplayName = "Acme Security" })
	tests := []struct {
		tenant string
		want   alerts.Sender
	}{
		{"good", alerts.Sender{From: `"Acme Security" <soc@good.example>`, DKIMDomain: "good.example"}},
		{"soft", alerts.Sender{From: `"Acme Security" <noreply@platform.example>`, ReplyTo: "soc@soft.example", DKIMDomain: "platform.example"}},
		{"plain", alerts.Sender{From: `"Acme Security" <noreply@platform.example>`, DKIMDomain: "platform.example"}},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, sender(t, c, tt.tenant), "Sender(%q)", tt.tenant)
	}
}

// TestCacheDisplayNames: names with specials are quoted and non-ASCII
// names encoded, so that the From parses back to the name; without a name
// the From is the bare address.
func TestCacheDisplayNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, tt := range []struct{ name, want string }{
		{"", "noreply@platform.example"},
		{"Acme, Inc. Security", `"Acme, Inc. Security" <noreply@platform.example>`},
		{"Sécurité Acme", "=?utf-8?q?S=C3=A9curit=C3=A9_Acme?= <noreply@platform.example>"},
	} {
		c := w.cache(t, func(cfg *mailauthsender.Config) { cfg.DisplayName = tt.name })
		assert.Equalf(t, tt.want, sender(t, c, "plain").From, "From with DisplayName %q", tt.name)
	}
}

// TestCacheApplicationFromName: the policy's From keeps the application's
// FromName, unless the cache has a DisplayName of its own.
func TestCacheApplicationFromName(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(cfg *mailauth.PolicyConfig) {
		cfg.Applications = []mailauth.Application{{ID: mailauth.AlertEmails, FromName: "Platform, Alerts"}}
	})
	for _, tt := range []struct{ name, want string }{
		{"", `"Platform, Alerts" <noreply@platform.example>`},
		{"Acme Security", `"Acme Security" <noreply@platform.example>`},
	} {
		c := w.cache(t, func(cfg *mailauthsender.Config) { cfg.DisplayName = tt.name })
		assert.Equalf(t, tt.want, sender(t, c, "plain").From, "From with DisplayName %q", tt.name)
	}
}

// TestCacheOneLookupPerTTL: within the TTL every email is answered from
// memory (no DNS query, no call of the Customer function); after it, one
// lookup refreshes the choice.
func TestCacheOneLookupPerTTL(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cache(t, func(cfg *mailauthsender.Config) { cfg.TTL = 10 * time.Minute })
	first := sender(t, c, "good")
	queries := w.dns.Queries()
	require.Positive(t, queries, "DNS queries of the first lookup")
	for range 1000 {
		require.Equal(t, first, sender(t, c, "good"), "Sender(good) within the TTL")
	}
	assert.Equal(t, queries, w.dns.Queries(), "DNS queries for 1000 more emails within the TTL")
	assert.Equal(t, int32(1), w.calls.Load(), "Customer calls within the TTL")

	// The customer's DKIM key is withdrawn: seen once the TTL is over.
	rec, _ := w.policy.DKIMRecord("good.example")
	w.dns.Set(rec.Name)
	w.clock.Advance(10*time.Minute - time.Nanosecond)
	assert.Equal(t, first, sender(t, c, "good"), "Sender(good) just before the TTL ends")
	w.clock.Advance(time.Nanosecond)
	got := sender(t, c, "good")
	// Its SPF still aligns: its own From, signed as the platform.
	assert.Equal(t, alerts.Sender{From: "soc@good.example", DKIMDomain: "platform.example"}, got, "Sender(good) after the TTL, the key withdrawn")
	assert.Equal(t, int32(2), w.calls.Load(), "Customer calls after the TTL")
}

// TestCacheForget: Forget makes the next email ask again.
func TestCacheForget(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cache(t, nil)
	sender(t, c, "plain")
	c.Forget("plain")
	c.Forget("never-seen")
	sender(t, c, "plain")
	assert.Equal(t, int32(2), w.calls.Load(), "Customer calls")
}

// TestCacheMigration: a choice does not outlive the migration of its
// application: the new domain is used from the migration's first instant,
// however long the TTL.
func TestCacheMigration(t *testing.T) {
	t.Parallel()
	at := t0.Add(30 * time.Minute)
	w := newWorld(t, func(cfg *mailauth.PolicyConfig) {
		cfg.Applications = []mailauth.Application{{ID: mailauth.AlertEmails, Migration: &mailauth.Migration{Old: "corp.example", New: "platform.example", At: at}}}
	})
	c := w.cache(t, func(cfg *mailauthsender.Config) { cfg.TTL = 24 * time.Hour })
	assert.Equal(t, "noreply@corp.example", sender(t, c, "plain").From, "From before the migration")
	w.clock.Set(at.Add(-time.Nanosecond))
	assert.Equal(t, "noreply@corp.example", sender(t, c, "plain").From, "From just before the migration")
	w.clock.Set(at)
	assert.Equal(t, "noreply@platform.example", sender(t, c, "plain").From, "From at the migration")
	assert.Equal(t, int32(2), w.calls.Load(), "Customer calls")
}

// TestCacheErrors: the Customer function's and the policy's errors are
// returned, wrapped and naming the tenant, and not cached.
func TestCacheErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cache(t, nil)
	for _, tt := range []struct {
		tenant string
		is     error
	}{
		{"broken", mailauth.ErrSender},
		{"unknown", nil},
	} {
		for range 2 {
			_, err := c.Sender(context.Background(), tt.tenant, "")
			require.Errorf(t, err, "Sender(%q)", tt.tenant)
			assert.Containsf(t, err.Error(), fmt.Sprintf("tenant %q", tt.tenant), "Sender(%q) = %v; want the tenant named", tt.tenant, err)
			if tt.is != nil {
				assert.ErrorIsf(t, err, tt.is, "Sender(%q)", tt.tenant)
			}
		}
	}
	assert.Equal(t, int32(4), w.calls.Load(), "Customer calls: errors are not cached")

	unknownApp, err := mailauthsender.New(mailauthsender.Config{
		Policy: w.policy,
		Customer: func(context.Context, string) (mailauth.Customer, mailauth.App, error) {
			return mailauth.Customer{}, "billing", nil
		},
	})
	require.NoError(t, err, "New")
	_, err = unknownApp.Sender(context.Background(), "plain", "")
	assert.ErrorIs(t, err, mailauth.ErrUnknownApp, "Sender with an app the policy does not know")
}

// TestNewErrors: each bad field is named.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ok := mailauthsender.Config{Policy: w.policy, Customer: w.customer}
	for _, tt := range []struct {
		name string
		edit func(*mailauthsender.Config)
		want string
	}{
		{"no policy", func(c *mailauthsender.Config) { c.Policy = nil }, "mailauthsender: Config.Policy is nil"},
		{"no customer", func(c *mailauthsender.Config) { c.Customer = nil }, "mailauthsender: Config.Customer is nil"},
		{"negative TTL", func(c *mailauthsender.Config) { c.TTL = -time.Second }, "mailauthsender: Config.TTL -1s is negative"},
		{"line break in the name", func(c *mailauthsender.Config) { c.DisplayName = "Acme\r\nBcc: x@evil.example" },
			`mailauthsender: Config.DisplayName "Acme\r\nBcc: x@evil.example" holds a control character or invalid UTF-8`},
		{"invalid UTF-8", func(c *mailauthsender.Config) { c.DisplayName = "Acme \xff" },
			`mailauthsender: Config.DisplayName "Acme \xff" holds a control character or invalid UTF-8`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			c, err := mailauthsender.New(cfg)
			assert.Nilf(t, c, "New(%s) returned a cache", tt.name)
			assert.EqualErrorf(t, err, tt.want, "New(%s)", tt.name)
		})
	}
}

// TestCacheConcurrentFirstLookup: many emails of a tenant never seen ask
// the policy once; the others wait for it, or give up with their context.
func TestCacheConcurrentFirstLookup(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		release := make(chan struct{})
		var calls atomic.Int32
		c, err := mailauthsender.New(mailauthsender.Config{
			Policy: w.policy,
			Customer: func(ctx context.Context, tenant string) (mailauth.Customer, mailauth.App, error) {
				calls.Add(1)
				<-release
				return w.customer(ctx, tenant)
			},
		})
		require.NoError(t, err, "New")
		var wg sync.WaitGroup
		got := make([]alerts.Sender, 50)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() { got[i], errs[i] = c.Sender(context.Background(), "plain", "") })
		}
		synctest.Wait()
		assert.Equal(t, int32(1), calls.Load(), "Customer calls while the first lookup runs")
		impatient, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var impatientErr error
		wg.Go(func() { _, impatientErr = c.Sender(impatient, "plain", "") })
		time.Sleep(time.Second) // the impatient caller gives up
		synctest.Wait()
		assert.ErrorIs(t, impatientErr, context.DeadlineExceeded, "Sender with a context that ends while waiting")
		close(release)
		wg.Wait()
		for i := range got {
			require.NoErrorf(t, errs[i], "Sender #%d", i)
			assert.Equalf(t, "noreply@platform.example", got[i].From, "Sender #%d", i)
		}
		assert.Equal(t, int32(1), calls.Load(), "Customer calls in all")
	})
}

// TestCacheServesExpiredWhileRefreshing: once the TTL is over, one call
// refreshes the choice, and the others get the expired one meanwhile
// rather than wait for DNS.
func TestCacheServesExpiredWhileRefreshing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		var block atomic.Bool
		release := make(chan struct{})
		c, err := mailauthsender.New(mailauthsender.Config{
			Policy: w.policy,
			Customer: func(ctx context.Context, tenant string) (mailauth.Customer, mailauth.App, error) {
				if block.Load() {
					<-release
					return mailauth.Customer{From: "soc@soft.example"}, "", nil
				}
				return w.customer(ctx, tenant)
			},
			TTL: time.Minute,
		})
		require.NoError(t, err, "New")
		before := sender(t, c, "plain")
		time.Sleep(time.Minute)
		block.Store(true)
		var refreshed alerts.Sender
		done := make(chan struct{})
		go func() {
			defer close(done)
			refreshed = sender(t, c, "plain")
		}()
		synctest.Wait() // the refresh is blocked in the Customer function
		for range 10 {
			assert.Equal(t, before, sender(t, c, "plain"), "Sender during the refresh: the expired choice")
		}
		close(release)
		<-done
		assert.Equal(t, "soc@soft.example", refreshed.ReplyTo, "the refreshed choice")
		assert.Equal(t, refreshed, sender(t, c, "plain"), "Sender after the refresh")
	})
}

// TestCacheCancelledLookupNotCached: a lookup whose context ends fails that
// call only; the next call asks again.
func TestCacheCancelledLookupNotCached(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cache(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Sender(ctx, "good", "")
	assert.Truef(t, errors.Is(err, context.Canceled), "Sender(cancelled) = %v; want context.Canceled", err)
	assert.Equal(t, "soc@good.example", sender(t, c, "good").From, "Sender after a cancelled lookup")
}
