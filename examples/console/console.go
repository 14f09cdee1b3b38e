package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"
	_ "time/tzdata" // the tenants' zones, on machines without a zone database

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/mailauthsender"
	"github.com/alertmail/alertmail/alerts/settingshttp"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

// A sampleTenant is one of the console's customers.
type sampleTenant struct {
	ID, Name   string
	From       string // the sender the customer configured
	Zone       string // its recipients' time zone
	Recipients []string
}

var sampleTenants = []sampleTenant{
	{ID: "acme", Name: "Acme Corp", From: "alerts@ready.example", Zone: "Europe/Paris",
		Recipients: []string{"soc@acme.example", "oncall@acme.example"}},
	{ID: "globex", Name: "Globex", From: "alerts@strict.example", Zone: "America/New_York",
		Recipients: []string{"security@globex.example"}},
}

// config configures newConsole; its zero value runs everything in memory.
type config struct {
	// DNS answers the sender check of the page; nil means the sample
	// zones. The tenants' own emails always use the sample zones.
	DNS mailauth.Resolver
	// Logger receives what the SDK logs; nil means none.
	Logger *slog.Logger
}

// console is the whole SDK wired together, in memory, and the state its
// pages show. It is safe for concurrent use.
type console struct {
	clock      *skipClock
	catalog    *alerts.Catalog
	dispatcher *alerts.Dispatcher
	digests    *digest.Mailer
	outbox     *outbox
	checker    *mailauth.Policy // for the sender check of the page
	settings   *settingshttp.Handler
	csrf       string // the anti-CSRF token of the settings page's one session
	zones      map[string]*time.Location
	schedules  map[string]digest.Schedule // each tenant's digest time
	log        *slog.Logger
	metrics    *metrics
	pages      map[string]*template.Template // by name, see pageNames
	handler    http.Handler

	done chan struct{} // closed when Dispatcher.Run and the digest loop end

	mu      sync.Mutex
	waiting map[alerts.LimitKey]alerts.Result // keys with events held back, and why
	fired   []firedEvent                      // the last batch fired from the page
	flash   string                            // an error to show once
	seq     int                               // the last event number
}

// A firedEvent is one event the page fired and what became of it.
type firedEvent struct {
	ID     string
	Result alerts.Result
}

// newConsole builds the console and starts its sending loop, which runs
// until ctx is done; Close stops the rest.
func newConsole(ctx context.Context, cfg config) (_ *console, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &console{
		clock:     newSkipClock(),
		zones:     map[string]*time.Location{},
		schedules: map[string]digest.Schedule{},
		log:       log,
		done:      make(chan struct{}),
		waiting:   map[alerts.LimitKey]alerts.Result{},
	}
	if c.catalog, err = alerts.NewCatalog(alerts.CatalogConfig{MaxRecipients: 10}); err != nil {
		return nil, err
	}
	if c.metrics, err = newMetrics(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.metrics.Close()
		}
	}()
	token := make([]byte, 16)
	rand.Read(token)
	c.csrf = hex.EncodeToString(token)

	store, err := c.newSettingsStore(ctx)
	if err != nil {
		return nil, err
	}
	sender, err := c.newSender(cfg.DNS)
	if err != nil {
		return nil, err
	}
	notifier, err := c.newMailServer()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.outbox.Close()
		}
	}()
	if c.digests, err = c.newDigests(notifier, store, sender); err != nil {
		return nil, err
	}
	if c.dispatcher, err = c.newDispatcher(notifier, store, sender); err != nil {
		return nil, err
	}
	if c.settings, err = c.newSettingsHandler(); err != nil {
		return nil, err
	}
	// The digests whose time passed before the console started are
	// empty: counted as sent, so that the first events wait for the next.
	if err := c.digests.SendDue(ctx); err != nil {
		return nil, err
	}
	c.handler = c.routes()
	var loops sync.WaitGroup
	loops.Go(func() { c.dispatcher.Run(ctx) })
	loops.Go(func() { c.digestLoop(ctx) })
	go func() {
		loops.Wait()
		close(c.done)
	}()
	return c, nil
}

// newSettingsStore returns the tenants' settings, in memory, with their
// recipients saved, and notes each tenant's zone.
func (c *console) newSettingsStore(ctx context.Context) (*alerts.MemorySettingsStore, error) {
	store := alerts.NewMemorySettingsStore(c.catalog)
	for _, t := range sampleTenants {
		loc, err := time.LoadLocation(t.Zone)
		if err != nil {
			return nil, err
		}
		c.zones[t.ID] = loc
		cur, err := store.Load(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		d := cur.Edit()
		if err := d.SetRecipients(t.Recipients); err != nil {
			return nil, err
		}
		if _, err := store.Save(ctx, d.Settings()); err != nil {
			return nil, err
		}
	}
	return store, nil
}

// newSender returns who the emails are from: mailauth's policy over the
// sample zones, each tenant's choice cached. It also sets the page's
// sender checker, which asks dns, or the sample zones if dns is nil.
func (c *console) newSender(dns mailauth.Resolver) (*mailauthsender.Cache, error) {
	policy, err := newPolicy(zoneResolver(sampleZones), c.clock, c.metrics.provider, c.log)
	if err != nil {
		return nil, err
	}
	if dns == nil {
		dns = zoneResolver(sampleZones)
	}
	// The page's checks are not the emails': not in the metrics.
	if c.checker, err = newPolicy(dns, c.clock, nil, nil); err != nil {
		return nil, err
	}
	return mailauthsender.New(mailauthsender.Config{
		Policy:      policy,
		Customer:    sampleCustomer,
		DisplayName: "Security Alerts",
		Clock:       c.clock,
	})
}

// sampleCustomer returns the sender a sample tenant configured.
func sampleCustomer(_ context.Context, tenant string) (mailauth.Customer, mailauth.App, error) {
	for _, t := range sampleTenants {
		if t.ID == tenant {
			return mailauth.Customer{From: t.From}, mailauth.AlertEmails, nil
		}
	}
	return mailauth.Customer{}, "", fmt.Errorf("console: no tenant %q", tenant)
}

// newMailServer starts the console's own relay (c.outbox) and returns the
// real SMTP backend, DKIM-signing, sending to it; the caller closes
// c.outbox when it fails later.
func (c *console) newMailServer() (_ alerts.Notifier, err error) {
	if c.outbox, err = newOutbox(c.catalog, c.clock); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.outbox.Close()
		}
	}()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: platformDomain, Selector: "console", Key: key})
	if err != nil {
		return nil, err
	}
	relay, err := smtpnotify.New(smtpnotify.Config{
		Host:            "127.0.0.1",
		Port:            c.outbox.Port(),
		Security:        smtpnotify.Plaintext, // a relay in the same process
		From:            "noreply@" + platformDomain,
		MessageIDDomain: platformDomain,
		DKIM:            signer,
		Clock:           c.clock,
		Logger:          c.log,
		MeterProvider:   c.metrics.provider,
	})
	if err != nil {
		return nil, err
	}
	return c.outbox.notifier(relay), nil
}

// newDigests returns the digest mailer, with each tenant subscribed at
// 08:00 in its zone.
func (c *console) newDigests(notifier alerts.Notifier, store *alerts.MemorySettingsStore, sender *mailauthsender.Cache) (*digest.Mailer, error) {
	digests, err := digest.NewMailer(digest.MailerConfig{
		Notifier:      notifier,
		Settings:      store,
		Sender:        sender,
		Catalog:       c.catalog,
		Clock:         c.clock,
		Logger:        c.log,
		MeterProvider: c.metrics.provider,
	})
	if err != nil {
		return nil, err
	}
	for _, t := range sampleTenants {
		c.schedules[t.ID] = digest.Schedule{Hour: 8, Location: c.zones[t.ID]}
		if err := digests.SetTenant(t.ID, digest.Subscription{Schedule: c.schedules[t.ID]}); err != nil {
			return nil, err
		}
	}
	return digests, nil
}

// newDispatcher returns the alert dispatcher, rendering with the
// built-in content and handing digest events to c.digests.
func (c *console) newDispatcher(notifier alerts.Notifier, store *alerts.MemorySettingsStore, sender *mailauthsender.Cache) (*alerts.Dispatcher, error) {
	content, err := alerts.NewContent(alerts.ContentConfig{
		EventURL:   "https://console.example.com/t/{tenant}/events/{id}",
		HuntingURL: "https://console.example.com/t/{tenant}/hunting?category={category}",
		Catalog:    c.catalog,
	})
	if err != nil {
		return nil, err
	}
	return alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: store,
		Saver:    store, // saves go through the dispatcher: a disable drops queued alerts at once
		Notifier: notifier,
		Renderer: content,
		Catalog:  c.catalog,
		Digest:   c.digests,
		Sender:   sender,
		Location: func(tenant string) *time.Location { return c.zones[tenant] },
		Clock:    c.clock,
		Logger:   c.log,
		// The SDK's metrics, on /metrics.
		MeterProvider: c.metrics.provider,
		// Run sleeps on real timers; the skip buttons move the clock, and
		// the digest loop flushes at once after a skip.
		PollInterval: time.Second,
	})
}

// newSettingsHandler returns the settings page, for the signed-in tenant,
// saving through c.dispatcher.
func (c *console) newSettingsHandler() (*settingshttp.Handler, error) {
	return settingshttp.New(settingshttp.Config{
		Store:     c.dispatcher,
		Tenant:    func(r *http.Request) (string, error) { return c.signedIn(r), nil },
		CSRFToken: func(*http.Request) string { return c.csrf },
		Logger:    c.log,
	})
}

// Close stops the console's relay, once its sending loop has ended (the
// context given to newConsole is done).
func (c *console) Close() error {
	<-c.done
	return errors.Join(c.outbox.Close(), c.metrics.Close())
}

// ServeHTTP serves the console's pages.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// fire dispatches count events made from ev, numbered in turn, and keeps
// what became of them for the page.
func (c *console) fire(ctx context.Context, ev alerts.Event, count int) error {
	var fired []firedEvent
	defer func() {
		c.mu.Lock()
		c.fired = fired
		c.mu.Unlock()
	}()
	for range count {
		c.mu.Lock()
		c.seq++
		ev.ID = fmt.Sprintf("ev-%d", c.seq)
		c.mu.Unlock()
		ev.Time = c.clock.Now()
		res, err := c.dispatcher.Dispatch(ctx, ev)
		if err != nil {
			return err
		}
		fired = append(fired, firedEvent{ID: ev.ID, Result: res})
		c.track(alerts.LimitKey{Tenant: ev.Tenant, Category: ev.Category}, res)
	}
	return nil
}

// retryAfter is about when Dispatcher.Run retries a key whose send failed
// or that had no recipients (its first backoff is 15 to 30 seconds): the
// outbox shows it as held back until then.
const retryAfter = 30 * time.Second

// track notes what a Dispatch left waiting for key, for the outbox page to
// show; Dispatcher.Run sends it when its time comes.
func (c *console) track(key alerts.LimitKey, res alerts.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case res.Outcome == alerts.Suppressed:
		c.waiting[key] = res
	case res.Outcome == alerts.SendFailed || res.Outcome == alerts.NoRecipients:
		res.Next = c.clock.Now().Add(retryAfter)
		c.waiting[key] = res
	case res.Outcome != "" && res.Outcome != alerts.BelowThreshold && res.Outcome != alerts.Duplicate:
		delete(c.waiting, key)
	}
}

// digestLoop sends each digest at the mailer's NextDue, and, after each
// skip of the clock, the alerts and digests that fell due at once (Run
// would see the skip within its PollInterval). It ends when ctx is done.
func (c *console) digestLoop(ctx context.Context) {
	for {
		timer := time.NewTimer(c.untilNext())
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-c.clock.skipped:
			if _, err := c.dispatcher.FlushDue(ctx); err != nil && ctx.Err() == nil {
				c.log.LogAttrs(ctx, slog.LevelError, "console: flushing due alerts", slog.Any("error", err))
			}
		case <-timer.C:
		}
		timer.Stop()
		// Cheap when nothing is due; and after a skip, the digest that
		// fell due is behind NextDue, which looks ahead.
		if err := c.digests.SendDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
			c.log.LogAttrs(ctx, slog.LevelError, "console: digests", slog.Any("error", err))
		}
	}
}

// untilNext is how long until the next digest is due; an hour when none
// is.
func (c *console) untilNext() time.Duration {
	next := c.digests.NextDue()
	if next.IsZero() {
		return time.Hour
	}
	return max(next.Sub(c.clock.Now()), 0)
}
