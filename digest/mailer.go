package digest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/alerts"
)

// Defaults of [MailerConfig].
const (
	DefaultRetention     = 30 * 24 * time.Hour
	DefaultLeaseTTL      = 5 * time.Minute
	DefaultRetryInterval = time.Minute
	DefaultFlushInterval = 5 * time.Second
	DefaultMaxLines      = 100
)

// MailerConfig configures [NewMailer]. Notifier is required; every other
// field has a working zero value, given in its doc. NewMailer checks the
// fields and names the one at fault. A MailerConfig is a plain value;
// NewMailer keeps no reference to it.
type MailerConfig struct {
	// Notifier delivers the digests. Required.
	Notifier alerts.Notifier
	// Settings loads each tenant's alert settings, the ones the
	// [alerts.Dispatcher] reads, so that one save governs alerts and
	// digest alike. When a digest falls due, the settings give its
	// recipients, and the digest lists only the categories that are on:
	// the items of a catalog category that is off are dropped from it, as
	// the Dispatcher drops the queued alerts of a disabled category (items
	// of a category the catalog does not know are listed). A tenant with no
	// recipients gets no digest that day, and nothing is retried or lost:
	// its items stay pending for the first digest that has recipients (or,
	// on a store that expires state, until the retention ends). With
	// Settings, a [Subscription] must leave To empty. Nil means each
	// Subscription.To gives the recipients and every category is listed.
	Settings alerts.SettingsLoader
	// Sender chooses the From, Reply-To and DKIM domain of every digest,
	// just before Notify, asked with the tenant and an empty category:
	// give it the Dispatcher's policy (package alerts/mailauthsender).
	// With Sender, a Subscription must leave From and ReplyTo empty. Nil
	// means Subscription.From and ReplyTo.
	Sender alerts.SenderPolicy
	// Store holds the shared state. Nil means a new [MemoryStore], right
	// for one process; replicas share a store (see package digest/redisstore).
	Store Store
	// Clock tells the time. Nil means [alerts.SystemClock].
	Clock alerts.Clock
	// Retention is how long a reported notification is left out of later
	// digests. Zero means DefaultRetention (30 days); negative is an error.
	Retention time.Duration
	// LeaseTTL is how long a mailer may hold a tenant's digest before
	// another may take it over (a mailer that died); it also bounds the
	// time a Notify call gets. Zero means DefaultLeaseTTL (5 minutes);
	// negative is an error.
	LeaseTTL time.Duration
	// RetryInterval is how long Run waits after a failed attempt before it
	// tries again. Zero means DefaultRetryInterval (1 minute); negative is
	// an error.
	RetryInterval time.Duration
	// FlushInterval is how often Run flushes the mailer's collector. Zero
	// means DefaultFlushInterval (5 seconds); negative is an error.
	FlushInterval time.Duration
	// MaxLines is how many notifications an email lists before it says how
	// many more there are and links to ViewAllURL. Zero means
	// DefaultMaxLines (100); a negative value lists all.
	MaxLines int
	// ViewAllURL is the link to the full list, an http or https URL
	// template with the placeholders {tenant} and {day} (as 2026-03-09),
	// such as "https://console.example.com/digest/{tenant}?day={day}".
	// Empty means the email gives no link.
	ViewAllURL string
	// Catalog gives the categories' display names and order (the digest
	// lists them as the catalog does, and a category not in it by its id,
	// after the others) and the recipient limit of [Mailer.SetTenant]. Nil
	// means [alerts.DefaultCatalog].
	Catalog *alerts.Catalog
	// Brand shows whose product sends the digests, as it does on the alert
	// emails (see [alerts.Brand] for each field's default; its SettingsURL
	// gets the tenant). Default: the plain brand.
	Brand alerts.Brand
	// Templates holds digest.txt and digest.html, which replace the
	// default templates. They are executed with a *[TemplateData]:
	// digest.txt with text/template, digest.html with html/template (which
	// escapes for its context), both with the functions "plural" (plural
	// n "item" "items"), "datetime" and "date" (a time.Time in a zone, as
	// "2026-03-29 03:15:00 CEST (UTC+02:00)"), "line" (a string as one
	// line), "wrap" (wrap 72 "- " "  " s: s wrapped at 72 columns, the
	// first line after "- ", the others after "  ") and "button" (button
	// accent url label, for a button block). Nil means the default
	// templates (the templates directory of this package).
	Templates fs.FS
	// Logger receives what Run does not return: failed attempts (Warn), a
	// commit after the lease ran out (Warn), and each digest sent (Info:
	// tenant, day, message ID, lines and items). Nil means no logging.
	Logger *slog.Logger
	// MeterProvider gives the Mailer's metrics: items appended,
	// deduplicated and reported, and the attempts at a digest by outcome.
	// Nil means none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each attempt at a tenant's digest a span
	// (alertmail.digest.send, with the day, the outcome and the message
	// ID), in which the notifier's spans nest. Nil means none, the no-op
	// provider; never the global one.
	TracerProvider trace.TracerProvider
}

// A Subscription is when and to whom a [Mailer] sends one tenant's digest.
// The zero value sends at midnight UTC to no one (see To). A Subscription
// is a plain value; [Mailer.SetTenant] keeps a copy.
type Subscription struct {
	// Schedule is when the tenant's digest is sent.
	Schedule Schedule
	// To holds the recipients when [MailerConfig.Settings] is nil; with
	// Settings the tenant's settings give them, and To must be empty.
	// SetTenant checks and normalises them as the alerts settings do
	// ([alerts.ParseRecipients], at most the catalog's MaxRecipients).
	// Empty means none: the digest still goes to the notifier, which a
	// backend that needs recipients (SMTP) refuses, and the items then
	// stay pending.
	To []string
	// From and ReplyTo are the sender and Reply-To addresses when
	// [MailerConfig.Sender] is nil (with Sender they must be empty); empty
	// means the backend's default and none.
	From, ReplyTo string
}

// Errors of the Mailer.
var (
	// ErrConfig is wrapped by the errors of [NewMailer] about a bad
	// MailerConfig field.
	ErrConfig = errors.New("digest: bad config")
	// ErrTenant is wrapped by the errors of [Mailer.SetTenant] about a bad
	// tenant id or Subscription field.
	ErrTenant = errors.New("digest: bad tenant")
	// ErrNotRecorded is wrapped by a [SendError] when the notifier accepted
	// the digest but the store failed to record it: its items stay pending,
	// and once the lease runs out the digest is sent again (under the same
	// message ID, unless new notifications joined it or the next date's
	// digest fell due meanwhile).
	ErrNotRecorded = errors.New("digest: sent but not recorded")
)

// A SendError reports a failed attempt to send one tenant's digest. Its
// items stay pending for the next attempt (see [ErrNotRecorded] for the one
// case where the email did go out).
type SendError struct {
	Tenant string // the tenant
	Day    Day    // the date of the digest
	Err    error  // what failed; wraps ErrNotRecorded after a send the store did not record
}

// Error names the tenant and the date, then what failed.
func (e *SendError) Error() string {
	return fmt.Sprintf("digest: tenant %q, digest of %s: %v", e.Tenant, e.Day, e.Err)
}

// Unwrap returns Err.
func (e *SendError) Unwrap() error { return e.Err }

// A Mailer builds and sends the daily digests of the tenants it knows: one
// per tenant and calendar day of the tenant's zone, at the time its
// [Schedule] says, of the notifications not reported within the retention.
// Several mailers (in one process or on several replicas) may share a
// [Store]: each digest is still sent once.
//
// A Mailer is made by [NewMailer]; its zero value is not usable. It is
// safe for concurrent use.
type Mailer struct {
	clock     alerts.Clock
	log       *slog.Logger
	settings  alerts.SettingsLoader // nil: Subscription.To
	sender    alerts.SenderPolicy   // nil: Subscription.From and ReplyTo
	collector *Collector
	sched     *scheduler // the tenants, and when their digests fall due
	build     *builder   // a digest's lines into an email
	courier   *courier   // the claim, notify and commit steps on the store
	tel       *telemetry
}

// NewMailer checks cfg and returns a Mailer configured by it, with the defaults
// of the fields left zero. A bad field is an error wrapping [ErrConfig]
// that names it (a nil Notifier, a negative duration, a ViewAllURL or
// Templates that do not parse); NewMailer has no other effect then.
func NewMailer(cfg MailerConfig) (*Mailer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	build, err := newBuilder(&cfg)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(&cfg)
	if err != nil {
		return nil, err
	}
	return &Mailer{
		tel:       tel,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		settings:  cfg.Settings,
		sender:    cfg.Sender,
		collector: NewCollector(cfg.Store),
		sched:     newScheduler(cfg.RetryInterval, cfg.FlushInterval),
		build:     build,
		courier: &courier{
			store:     cfg.Store,
			notifier:  cfg.Notifier,
			clock:     cfg.Clock,
			lease:     cfg.LeaseTTL,
			retention: cfg.Retention,
			log:       cfg.Logger,
		},
	}, nil
}

// withDefaults returns cfg with its zero fields set to their defaults (but
// ViewAllURL and Templates, which [newBuilder] reads). The error, wrapping
// [ErrConfig], names the first bad field.
func (cfg MailerConfig) withDefaults() (MailerConfig, error) {
	if cfg.Notifier == nil {
		return cfg, fmt.Errorf("%w: MailerConfig.Notifier is nil", ErrConfig)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Retention", &cfg.Retention, DefaultRetention},
		{"LeaseTTL", &cfg.LeaseTTL, DefaultLeaseTTL},
		{"RetryInterval", &cfg.RetryInterval, DefaultRetryInterval},
		{"FlushInterval", &cfg.FlushInterval, DefaultFlushInterval},
	} {
		if *d.v < 0 {
			return cfg, fmt.Errorf("%w: MailerConfig.%s %v is negative", ErrConfig, d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Clock == nil {
		cfg.Clock = alerts.SystemClock{}
	}
	if cfg.MaxLines == 0 {
		cfg.MaxLines = DefaultMaxLines
	}
	if cfg.Catalog == nil {
		cfg.Catalog = alerts.DefaultCatalog()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// Store returns the mailer's store: MailerConfig.Store, or the MemoryStore
// NewMailer made.
func (m *Mailer) Store() Store { return m.courier.store }

// Collector returns the mailer's collector, which flushes to the mailer's
// store; SendDue flushes it before each build.
func (m *Mailer) Collector() *Collector { return m.collector }

// SetTenant adds or replaces the tenant with id and its subscription; the
// mailer keeps its own copy of sub.To, normalised. The error, wrapping
// [ErrTenant], names a bad field: an id [alerts.ValidateTenant] refuses
// (the error wraps its [*alerts.TenantError] too), an invalid schedule, a
// recipient the alerts settings would refuse (the error wraps its
// [*alerts.RecipientError] too), a From or ReplyTo with a control
// character (which could forge a header), a To with
// [MailerConfig.Settings] set, or a From or ReplyTo with
// [MailerConfig.Sender] set (they would be ignored).
func (m *Mailer) SetTenant(id string, sub Subscription) error {
	sub, err := sub.normalized(id, m.build.catalog.MaxRecipients())
	if err != nil {
		return err
	}
	if m.settings != nil && len(sub.To) > 0 {
		return fmt.Errorf("%w %q: To is set, but MailerConfig.Settings gives the recipients", ErrTenant, id)
	}
	if m.sender != nil && (sub.From != "" || sub.ReplyTo != "") {
		return fmt.Errorf("%w %q: From or ReplyTo is set, but MailerConfig.Sender chooses them", ErrTenant, id)
	}
	m.sched.set(id, sub)
	return nil
}

var _ alerts.Digester = (*Mailer)(nil)

// Digest adds the items of events (see [ItemOf]) to their tenants' pending
// lists in the mailer's store, durably as [Append] does, for their next
// digests. It makes a Mailer the [alerts.Digester] of a Dispatcher
// ([alerts.DispatcherConfig.Digest]), which hands it the events under
// their category's threshold. An event without a Time is dated by the
// mailer's clock. The error is Append's: the events are then not pending,
// and the Dispatcher returns the error for the host to dispatch again.
func (m *Mailer) Digest(ctx context.Context, events []alerts.Event) error {
	items := make([]Item, len(events))
	var now time.Time
	for i := range events {
		items[i] = ItemOf(events[i])
		if items[i].Time.IsZero() {
			if now.IsZero() {
				now = m.clock.Now()
			}
			items[i].Time = now
		}
	}
	if err := Append(ctx, m.courier.store, items...); err != nil {
		return err
	}
	m.tel.appended(ctx, len(items))
	return nil
}

// normalized returns sub with its recipients normalised, or an error
// wrapping [ErrTenant] that names tenant id and the bad field.
func (sub Subscription) normalized(id string, maxRecipients int) (Subscription, error) {
	if err := alerts.ValidateTenant(id); err != nil {
		return sub, fmt.Errorf("%w: %w", ErrTenant, err)
	}
	if err := sub.Schedule.Validate(); err != nil {
		return sub, fmt.Errorf("%w %q: Schedule: %w", ErrTenant, id, err)
	}
	to, err := alerts.ParseRecipients(sub.To, maxRecipients)
	if err != nil {
		return sub, fmt.Errorf("%w %q: To: %w", ErrTenant, id, err)
	}
	check := func(field, a string) error {
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w %q: %s %q has a control character", ErrTenant, id, field, a)
		}
		return nil
	}
	if err := errors.Join(check("From", sub.From), check("ReplyTo", sub.ReplyTo)); err != nil {
		return sub, err
	}
	sub.To = to
	return sub, nil
}

// RemoveTenant forgets the tenant with id; its state in the store stays
// (pending items and reported keys), so that a mailer that sets the tenant
// again, here or on another replica, reports what is pending and nothing
// twice.
func (m *Mailer) RemoveTenant(id string) { m.sched.remove(id) }

// NextDue returns when SendDue has work next: the earliest send instant
// after now of any tenant, or sooner, now plus RetryInterval, while a
// digest that fell due is not known to be sent (this mailer has not tried
// it yet, an attempt failed, or another mailer holds it and may have died
// holding it). It returns the zero time when there are no tenants. A host
// running its own timer calls SendDue once at start and then at each
// NextDue; [Mailer.Run] does just that.
func (m *Mailer) NextDue() time.Time { return m.sched.next(m.clock.Now()) }

// SendDue sends every digest that is due and not yet sent: for each tenant,
// the digest of the latest date whose send instant has passed (see
// [Schedule.Due]), unless it (or a later one) was already sent or another
// mailer is at it. Items still pending from a date whose digest failed go
// into this one. A digest with nothing new sends no email but counts as
// sent. A digest whose instant passed while no mailer ran (the host was
// down, or the tenant was just set) is sent late rather than skipped. It
// first flushes the mailer's collector.
//
// Call it from a ticker (every minute, say); calling it often is cheap, and
// calling it from several goroutines or replicas at once sends each digest
// once. The error joins a [SendError] per tenant that failed; the other
// tenants' digests are sent regardless.
func (m *Mailer) SendDue(ctx context.Context) error {
	var errs []error
	if err := m.collector.Flush(ctx); err != nil {
		m.logFlushError(ctx, err)
		errs = append(errs, err)
	}
	for _, id := range m.sched.ids() {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		sub, due := m.sched.due(id, m.clock.Now())
		if !due {
			continue // gone, or sent already: a day once sent stays sent
		}
		if err := m.send(ctx, id, sub); err != nil {
			m.log.LogAttrs(ctx, slog.LevelWarn, "digest not sent", slog.String("tenant", id), slog.Any("error", err))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// send sends tenant id's due digest, if any: it claims the lease, reads
// what is new, builds the email, hands it to the notifier under a renewed
// lease, and records the digest as done. An empty digest sends no email
// and is recorded all the same.
func (m *Mailer) send(ctx context.Context, id string, sub Subscription) error {
	ctx, span := m.tel.start(ctx)
	r := report{tenant: id}
	err := m.sendDigest(ctx, id, sub, &r)
	m.tel.done(ctx, span, &r, err)
	return err
}

// sendDigest is send, r reporting what it did.
func (m *Mailer) sendDigest(ctx context.Context, id string, sub Subscription, r *report) error {
	var keep func(alerts.CategoryID) bool // nil: every category
	if m.settings != nil {
		set, err := m.settings.Load(ctx, id)
		if err != nil {
			day, _ := sub.Schedule.Due(m.clock.Now())
			r.day = day
			return &SendError{Tenant: id, Day: day, Err: fmt.Errorf("settings: %w", err)}
		}
		// The snapshot's own slice; the message gets a copy.
		if sub.To = set.Recipients(); len(sub.To) == 0 {
			// No one to send to: no digest today, nothing retried, and
			// the items stay pending (nothing is claimed or committed).
			day, _ := sub.Schedule.Due(m.clock.Now())
			m.log.LogAttrs(ctx, slog.LevelInfo, "digest not sent: the tenant has no recipients; its items stay pending",
				slog.String("tenant", id), slog.String("day", day.String()))
			m.sched.markDone(id, day)
			r.day, r.outcome = day, outcomeNoRecipients
			return nil
		}
		keep = listed(set)
	}
	a, status, err := m.courier.claim(ctx, id, sub.Schedule)
	r.day = a.day
	if status == AlreadySent {
		m.sched.markDone(id, a.day)
	}
	if err != nil || status != Claimed {
		return err
	}
	lines, keys, through, err := a.unreported(ctx, keep)
	if err != nil {
		return err
	}
	r.deduplicated = a.deduplicated
	if len(lines) > 0 {
		msg, err := m.build.message(id, sub, a.day, a.start, lines)
		if err != nil {
			return a.release(ctx, err)
		}
		r.messageID = msg.ID
		if err := alerts.ApplySender(ctx, m.sender, msg); err != nil {
			return a.release(ctx, fmt.Errorf("sender: %w", err))
		}
		if sent, err := a.deliver(ctx, msg); !sent {
			return err
		}
	}
	if err := a.commit(ctx, keys, through, len(lines) > 0); err != nil {
		return err
	}
	r.outcome = outcomeEmpty
	if len(lines) > 0 {
		r.outcome, r.lines = outcomeSent, len(lines)
		for i := range lines {
			r.items += lines[i].count
		}
	}
	m.sched.markDone(id, a.day)
	return nil
}

// listed returns whether a digest built under set lists the lines of a
// category: not when the category is in set's catalog and off.
func listed(set *alerts.Settings) func(alerts.CategoryID) bool {
	c := set.Catalog()
	if c == nil {
		c = alerts.DefaultCatalog() // the zero Settings: every category off
	}
	return func(id alerts.CategoryID) bool {
		_, known := c.Lookup(id)
		return !known || set.Enabled(id)
	}
}

// logFlushError logs a failed flush of the collector.
func (m *Mailer) logFlushError(ctx context.Context, err error) {
	m.log.LogAttrs(ctx, slog.LevelWarn, "digest collector flush failed", slog.Any("error", err))
}

// Run sends the digests as they fall due until ctx is done: it calls
// SendDue at once, then at each [Mailer.NextDue] (the tenants' send
// instants, and every RetryInterval while a digest that fell due is not
// sent: an attempt failed, or another mailer holds it); in between, it
// flushes the collector every FlushInterval. Tenants added while it runs
// are taken into account at once. It returns ctx's error, after a last
// flush of the collector.
//
// Run tells the time with the Clock and waits with standard timers, so the
// Clock must advance with them: the SystemClock does, under
// testing/synctest too. With a clock moved by hand, call SendDue instead.
func (m *Mailer) Run(ctx context.Context) error {
	next := m.clock.Now() // send at once: catch up on what is due
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := m.clock.Now()
		if !now.Before(next) {
			// SendDue's failures are logged; NextDue retries them.
			_ = m.SendDue(ctx)
			now = m.clock.Now()
			if next = m.NextDue(); next.IsZero() {
				next = now.Add(24 * time.Hour)
			}
		} else if err := m.collector.Flush(ctx); err != nil && ctx.Err() == nil {
			m.logFlushError(ctx, err)
		}
		timer.Reset(min(next.Sub(now), m.sched.flush))
		select {
		case <-ctx.Done():
			fctx, cancel := detached(ctx, m.courier.lease)
			if err := m.collector.Flush(fctx); err != nil {
				m.logFlushError(ctx, err)
			}
			cancel()
			return ctx.Err()
		case <-timer.C:
		case <-m.sched.wake:
			next = m.clock.Now()
		}
	}
}
