package mailauthsender

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/mailauth"
)

// DefaultTTL is how long a [Cache] keeps a tenant's choice when
// [Config].TTL is zero: DNS records of mail policy change seldom, and a
// customer who fixes its records sees its own From within the hour.
const DefaultTTL = time.Hour

// CustomerFunc returns what the policy needs to know of a tenant: its
// [mailauth.Customer] (its own From, deployment and DKIM) and the
// application its emails come from; an empty App means
// [mailauth.AlertEmails]. It is the host's mapping from its tenants to its
// customers, and may read a database: a [Cache] calls it once per tenant
// per TTL. It must be safe for concurrent use.
type CustomerFunc func(ctx context.Context, tenant string) (mailauth.Customer, mailauth.App, error)

// Config configures [New]. Policy and Customer are required; every other
// field has a working zero value.
type Config struct {
	// Policy is the sender-domain policy that chooses. Required.
	Policy *mailauth.Policy
	// Customer maps a tenant to its customer and application. Required.
	Customer CustomerFunc
	// DisplayName is the display name of every From the cache chooses,
	// such as "Acme Security"; it is encoded as RFC 5322 and RFC 2047
	// require when it holds specials or non-ASCII letters. It replaces
	// the application's [mailauth.Application] FromName. Default: none,
	// the policy's From as it is (the bare address, or with the
	// application's FromName).
	DisplayName string
	// TTL is how long a tenant's choice is kept; a choice is also dropped
	// at the instant of a [mailauth.Migration] of its application, so that
	// the new domain is used from its first instant. Default: DefaultTTL.
	TTL time.Duration
	// Clock tells the time for the TTL; give it the policy's clock, so
	// that migrations fall on the same instant for both. Default:
	// [alerts.SystemClock].
	Clock alerts.Clock
}

// A Cache is an [alerts.SenderPolicy] that asks a [mailauth.Policy] for the
// sender of each tenant once per TTL and answers from memory in between:
// the From (with the configured display name), the Reply-To and the DKIM
// domain of the policy's [mailauth.Decision].
//
// The choice is per tenant: every category of a tenant, and its digest,
// are sent from the same address. A private-cloud customer sending
// through its own gateway gets an empty DKIM domain, which the SMTP
// backend reads as the domain of the From: configure the backend for that
// gateway without DKIM, since the gateway signs.
//
// A Cache is safe for concurrent use. One lookup per tenant runs at a
// time: while a tenant's choice is refreshed, other calls get the expired
// choice, or wait for the first one. An error is not cached. The cache
// keeps one small entry per tenant it has been asked about, and forgets
// expired ones as it grows. Create one with [New]; the zero value is not
// usable.
type Cache struct {
	policy   *mailauth.Policy
	customer CustomerFunc
	name     string
	ttl      time.Duration
	clock    alerts.Clock

	mu      sync.Mutex
	entries map[string]*entry
	swept   int // the number of entries after the last sweep
}

// An entry is one tenant's choice. Its fields are guarded by Cache.mu.
type entry struct {
	sender  alerts.Sender
	until   time.Time     // when the choice expires
	valid   bool          // sender holds a choice, fresh or expired
	refresh chan struct{} // non-nil while a lookup runs; closed when it ends
}

var _ alerts.SenderPolicy = (*Cache)(nil)

// New returns a Cache configured by cfg, or an error naming the field of
// cfg that is wrong.
func New(cfg Config) (*Cache, error) {
	switch {
	case cfg.Policy == nil:
		return nil, errors.New("mailauthsender: Config.Policy is nil")
	case cfg.Customer == nil:
		return nil, errors.New("mailauthsender: Config.Customer is nil")
	case cfg.TTL < 0:
		return nil, fmt.Errorf("mailauthsender: Config.TTL %v is negative", cfg.TTL)
	}
	if strings.ContainsFunc(cfg.DisplayName, unicode.IsControl) || !utf8.ValidString(cfg.DisplayName) {
		return nil, fmt.Errorf("mailauthsender: Config.DisplayName %q holds a control character or invalid UTF-8", cfg.DisplayName)
	}
	c := &Cache{
		policy:   cfg.Policy,
		customer: cfg.Customer,
		name:     cfg.DisplayName,
		ttl:      cmp.Or(cfg.TTL, DefaultTTL),
		clock:    cfg.Clock,
		entries:  make(map[string]*entry),
	}
	if c.clock == nil {
		c.clock = alerts.SystemClock{}
	}
	return c, nil
}

// Sender returns the sender of tenant's emails: from memory while the
// tenant's choice is fresh, from the policy otherwise. The category is not
// used: the choice is per tenant. The error wraps the Customer function's
// or the policy's (an unknown App matches [mailauth.ErrUnknownApp], a
// Customer the policy refuses [mailauth.ErrSender]), or is ctx's.
func (c *Cache) Sender(ctx context.Context, tenant string, _ alerts.CategoryID) (alerts.Sender, error) {
	for {
		c.mu.Lock()
		e := c.entries[tenant]
		switch {
		case e == nil:
			c.sweepLocked()
			e = &entry{}
			c.entries[tenant] = e
		case e.valid && (c.clock.Now().Before(e.until) || e.refresh != nil):
			// Fresh, or being refreshed by another call: the expired
			// choice serves meanwhile rather than blocking the send.
			s := e.sender
			c.mu.Unlock()
			return s, nil
		case e.refresh != nil:
			// The tenant's first lookup is running: wait for it.
			done := e.refresh
			c.mu.Unlock()
			select {
			case <-done:
				continue
			case <-ctx.Done():
				return alerts.Sender{}, ctx.Err()
			}
		}
		e.refresh = make(chan struct{})
		c.mu.Unlock()
		return c.refresh(ctx, tenant, e)
	}
}

// refresh asks the policy for tenant's sender and records the choice in e,
// whose refresh channel the caller made.
func (c *Cache) refresh(ctx context.Context, tenant string, e *entry) (alerts.Sender, error) {
	s, until, err := c.choose(ctx, tenant)
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.refresh)
	e.refresh = nil
	if err != nil {
		return alerts.Sender{}, err
	}
	e.sender, e.until, e.valid = s, until, true
	return s, nil
}

// choose asks the policy for tenant's sender, and says until when the
// choice holds.
func (c *Cache) choose(ctx context.Context, tenant string) (alerts.Sender, time.Time, error) {
	cust, app, err := c.customer(ctx, tenant)
	if err != nil {
		return alerts.Sender{}, time.Time{}, fmt.Errorf("mailauthsender: the customer of tenant %q: %w", tenant, err)
	}
	app = cmp.Or(app, mailauth.AlertEmails)
	d, err := c.policy.Sender(ctx, app, cust)
	if err != nil {
		return alerts.Sender{}, time.Time{}, fmt.Errorf("mailauthsender: the sender of tenant %q (%s): %w", tenant, app, err)
	}
	now := c.clock.Now()
	until := now.Add(c.ttl)
	if a, err := c.policy.Application(app); err == nil && a.Migration != nil && now.Before(a.Migration.At) && a.Migration.At.Before(until) {
		until = a.Migration.At
	}
	from := d.From
	if c.name != "" {
		// The policy's From carries the application's FromName, if it
		// has one: the cache's name replaces it.
		addr := d.From
		if a, err := mail.ParseAddress(d.From); err == nil {
			addr = a.Address
		}
		from = (&mail.Address{Name: c.name, Address: addr}).String()
	}
	return alerts.Sender{From: from, ReplyTo: d.ReplyTo, DKIMDomain: d.DKIMDomain}, until, nil
}

// Forget drops tenant's choice, so that the next email asks the policy
// again: call it when the customer's sender settings change (its own From,
// its DKIM key), rather than wait for the TTL.
func (c *Cache) Forget(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A lookup running for the tenant may predate the change: it records
	// what it finds in the entry forgotten here, which no later call
	// reads.
	delete(c.entries, tenant)
}

// sweepLocked forgets the expired entries once the cache has doubled since
// the last sweep, so that tenants no longer seen do not pin memory and the
// cost per call stays constant. The caller holds c.mu.
func (c *Cache) sweepLocked() {
	if len(c.entries) < max(2*c.swept, 64) {
		return
	}
	now := c.clock.Now()
	for t, e := range c.entries {
		if e.refresh == nil && (!e.valid || !now.Before(e.until)) {
			delete(c.entries, t)
		}
	}
	c.swept = len(c.entries)
}
