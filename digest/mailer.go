package digest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/render"
)

// Defaults of [Config].
const (
	DefaultRetention     = 30 * 24 * time.Hour
	DefaultLeaseTTL      = 5 * time.Minute
	DefaultRetryInterval = time.Minute
	DefaultFlushInterval = 5 * time.Second
	DefaultMaxLines      = 100
)

// Config configures [NewMailer]. Notifier is required; every other field has a
// working zero value, given in its doc. New checks the fields and names
// the one at fault. A Config is a plain value; New keeps no reference to
// it.
type Config struct {
	// Notifier delivers the digests. Required.
	Notifier alerts.Notifier
	// Store holds the shared state. Nil means a new [MemoryStore], right
	// for one process; replicas share a store (see package redisstore).
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
	// Templates holds digest.txt and digest.html, which replace the
	// default templates. They are executed with a *[TemplateData]:
	// digest.txt with text/template, digest.html with html/template (which
	// escapes for its context), both with the functions "plural" (plural
	// n "item" "items"), "datetime" and "date" (a time.Time in a zone, as
	// "2026-03-29 03:15:00 CEST (UTC+02:00)") and "line" (a string as one
	// line). Nil means the default templates (the templates directory of
	// this package).
	Templates fs.FS
	// Logger receives what Run does not return: failed attempts, and a
	// commit after the lease ran out. Nil means no logging.
	Logger *slog.Logger
}

// A Tenant is what a [Mailer] needs to know about one tenant. The zero
// value sends at midnight UTC to no one (see To). A Tenant is a plain
// value; [Mailer.SetTenant] keeps a copy.
type Tenant struct {
	// Schedule is when the tenant's digest is sent.
	Schedule Schedule
	// To holds the recipients. SetTenant checks and normalises them as
	// the alerts settings do ([alerts.ParseRecipients], at most the
	// catalog's MaxRecipients). Empty means none: the digest still goes to
	// the notifier, which a backend that needs recipients (SMTP) refuses,
	// and the items then stay pending.
	To []string
	// From and ReplyTo are the mailer and Reply-To addresses; empty means
	// the backend's default and none.
	From, ReplyTo string
}

// Errors of the Mailer.
var (
	// ErrConfig is wrapped by the errors of [New] about a bad Config field.
	ErrConfig = errors.New("digest: bad config")
	// ErrTenant is wrapped by the errors of [Mailer.SetTenant] about a bad
	// tenant id or Tenant field.
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
// A Mailer is made by [NewMailer]; its zero value is not usable. It is safe for
// concurrent use.
type Mailer struct {
	store     Store
	notifier  alerts.Notifier
	clock     alerts.Clock
	retention time.Duration
	lease     time.Duration
	retry     time.Duration
	flushEach time.Duration
	maxLines  int
	viewAll   *render.URL
	catalog   *alerts.Catalog
	rank      map[alerts.CategoryID]int
	tmpl      *render.Template
	log       *slog.Logger
	collector *Collector

	mu      sync.RWMutex
	tenants map[string]Tenant
	done    map[string]Day // the latest day known sent, per tenant: no need to ask the store
	wake    chan struct{}  // tells Run that the tenants changed
}

// NewMailer checks cfg and returns a Mailer configured by it, with the defaults
// of the fields left zero. A bad field is an error wrapping [ErrConfig]
// that names it (a nil Notifier, a negative duration, a ViewAllURL or
// Templates that do not parse); NewMailer has no other effect then.
func NewMailer(cfg Config) (*Mailer, error) {
	s := &Mailer{
		store:     cfg.Store,
		notifier:  cfg.Notifier,
		clock:     cfg.Clock,
		retention: cfg.Retention,
		lease:     cfg.LeaseTTL,
		retry:     cfg.RetryInterval,
		flushEach: cfg.FlushInterval,
		maxLines:  cfg.MaxLines,
		catalog:   cfg.Catalog,
		log:       cfg.Logger,
		tenants:   make(map[string]Tenant),
		done:      make(map[string]Day),
		wake:      make(chan struct{}, 1),
	}
	if s.notifier == nil {
		return nil, fmt.Errorf("%w: Notifier is nil", ErrConfig)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Retention", &s.retention, DefaultRetention},
		{"LeaseTTL", &s.lease, DefaultLeaseTTL},
		{"RetryInterval", &s.retry, DefaultRetryInterval},
		{"FlushInterval", &s.flushEach, DefaultFlushInterval},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("%w: %s %v is negative", ErrConfig, d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	if s.clock == nil {
		s.clock = alerts.SystemClock{}
	}
	if s.maxLines == 0 {
		s.maxLines = DefaultMaxLines
	}
	if s.catalog == nil {
		s.catalog = alerts.DefaultCatalog()
	}
	s.rank = make(map[alerts.CategoryID]int)
	for i, c := range s.catalog.Categories() {
		s.rank[c.ID] = i
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.ViewAllURL != "" {
		u, err := render.ParseURL(cfg.ViewAllURL, "tenant", "day")
		if err != nil {
			return nil, fmt.Errorf("%w: ViewAllURL: %w", ErrConfig, err)
		}
		s.viewAll = u
	}
	var err error
	if cfg.Templates != nil {
		s.tmpl, err = render.ParseFS(cfg.Templates, "digest", nil)
	} else {
		sub, _ := fs.Sub(templates, "templates")
		s.tmpl, err = render.ParseFS(sub, "digest", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Templates: %w", ErrConfig, err)
	}
	s.collector = NewCollector(s.store)
	return s, nil
}

// categoryName returns the display name of a category: its name in the
// catalog, else its id.
func (s *Mailer) categoryName(id alerts.CategoryID) string {
	if c, ok := s.catalog.Lookup(id); ok {
		return c.Name
	}
	if id == "" {
		return "Uncategorized"
	}
	return string(id)
}

// categoryRank orders the categories of the catalog as it does, before any
// other.
func (s *Mailer) categoryRank(id alerts.CategoryID) int {
	if r, ok := s.rank[id]; ok {
		return r
	}
	return len(s.rank)
}

// Store returns the mailer's store: Config.Store, or the MemoryStore New
// made.
func (s *Mailer) Store() Store { return s.store }

// Collector returns the mailer's collector, which flushes to the mailer's
// store; SendDue flushes it before each build.
func (s *Mailer) Collector() *Collector { return s.collector }

// SetTenant adds or replaces the tenant with id; the mailer keeps its own
// copy of t.To, normalised. The error, wrapping [ErrTenant], names a bad
// field: an empty id, an invalid schedule, a recipient the alerts settings
// would refuse (the error wraps its [*alerts.RecipientError] too), or a
// From or ReplyTo with a control character (which could forge a header).
func (s *Mailer) SetTenant(id string, t Tenant) error {
	if id == "" {
		return fmt.Errorf("%w: empty tenant id", ErrTenant)
	}
	if err := t.Schedule.Validate(); err != nil {
		return fmt.Errorf("%w %q: Schedule: %w", ErrTenant, id, err)
	}
	to, err := alerts.ParseRecipients(t.To, s.catalog.MaxRecipients())
	if err != nil {
		return fmt.Errorf("%w %q: To: %w", ErrTenant, id, err)
	}
	check := func(field, a string) error {
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w %q: %s %q has a control character", ErrTenant, id, field, a)
		}
		return nil
	}
	if err := errors.Join(check("From", t.From), check("ReplyTo", t.ReplyTo)); err != nil {
		return err
	}
	t.To = to
	s.mu.Lock()
	s.tenants[id] = t
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// RemoveTenant forgets the tenant with id; its state in the store stays
// (pending items and reported keys), so that a mailer that sets the tenant
// again, here or on another replica, reports what is pending and nothing
// twice.
func (s *Mailer) RemoveTenant(id string) {
	s.mu.Lock()
	delete(s.tenants, id)
	delete(s.done, id)
	s.mu.Unlock()
}

// NextDue returns when SendDue has work next: the earliest send instant
// after now of any tenant, or sooner, now plus RetryInterval, while a
// digest that fell due is not known to be sent (this mailer has not tried
// it yet, an attempt failed, or another mailer holds it and may have died
// holding it). It returns the zero time when there are no tenants. A host
// running its own timer calls SendDue once at start and then at each
// NextDue; [Mailer.Run] does just that.
func (s *Mailer) NextDue() time.Time {
	now := s.clock.Now()
	var next time.Time
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, t := range s.tenants {
		at := now.Add(s.retry)
		if day, _ := t.Schedule.Due(now); s.sent(id, day) {
			_, at = t.Schedule.Next(now)
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// sent reports whether tenant id's digest of day is known to be sent. The
// caller holds s.mu.
func (s *Mailer) sent(id string, day Day) bool {
	done, ok := s.done[id]
	return ok && done >= day
}

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
func (s *Mailer) SendDue(ctx context.Context) error {
	var errs []error
	if err := s.collector.Flush(ctx); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "digest collector flush failed", slog.Any("error", err))
		errs = append(errs, err)
	}
	s.mu.RLock()
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	slices.Sort(ids)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		s.mu.RLock()
		t, ok := s.tenants[id]
		day, _ := t.Schedule.Due(s.clock.Now())
		sent := s.sent(id, day)
		s.mu.RUnlock()
		if !ok || sent {
			continue // sent already: a day once sent stays sent
		}
		if err := s.send(ctx, id, t); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "digest not sent", slog.String("tenant", id), slog.Any("error", err))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// send sends tenant id's due digest, if any.
func (s *Mailer) send(ctx context.Context, id string, t Tenant) error {
	now := s.clock.Now()
	day, _ := t.Schedule.Due(now)
	fail := func(err error) error { return &SendError{Tenant: id, Day: day, Err: err} }

	token := rand.Text()
	until := now.Add(s.lease)
	status, err := s.store.Claim(ctx, id, Claim{Day: day, Token: token, Now: now, Until: until})
	if err != nil {
		return fail(fmt.Errorf("claim: %w", err))
	}
	if status == AlreadySent {
		s.markDone(id, day)
	}
	if status != Claimed {
		return nil
	}
	release := func(cause error) error {
		// Let the next attempt start at once rather than after the lease;
		// if this fails too, the lease runs out by itself.
		rctx, cancel := s.detached(ctx)
		defer cancel()
		if err := s.store.Release(rctx, id, token); err != nil {
			return fail(errors.Join(cause, fmt.Errorf("release: %w", err)))
		}
		return fail(cause)
	}

	items, through, err := s.store.Pending(ctx, id)
	if err != nil {
		return release(fmt.Errorf("pending: %w", err))
	}
	lines := collapse(items)
	keys := make([]ItemKey, len(lines))
	for i := range lines {
		keys[i] = lines[i].key
	}
	reported, err := s.store.Reported(ctx, id, keys, now.Add(-s.retention))
	if err != nil {
		return release(fmt.Errorf("reported: %w", err))
	}
	n := 0
	for i := range lines {
		if !reported[i] {
			lines[n] = lines[i]
			n++
		}
	}
	lines = lines[:n]

	if len(lines) > 0 {
		msg, err := s.message(id, t, day, now, lines)
		if err != nil {
			return release(err)
		}
		// Renew the lease just before sending: building a large digest
		// takes time, and if another mailer took over meanwhile (or already
		// sent this day), this one must not send.
		renewed := s.clock.Now()
		until = renewed.Add(s.lease)
		status, err := s.store.Claim(ctx, id, Claim{Day: day, Token: token, Now: renewed, Until: until})
		if err != nil {
			return release(fmt.Errorf("renew claim: %w", err))
		}
		if status != Claimed {
			s.log.LogAttrs(ctx, slog.LevelWarn, "digest lease lost while building; another mailer has it",
				slog.String("tenant", id), slog.String("day", day.String()), slog.String("status", status.String()))
			return nil
		}
		// The lease bounds the send, so that no one takes over while it may
		// still succeed (as far as the clocks agree).
		sendCtx, cancel := context.WithTimeout(ctx, s.lease)
		err = s.notifier.Notify(sendCtx, msg)
		cancel()
		if err != nil {
			return release(fmt.Errorf("notify: %w", err))
		}
	}

	keys = keys[:0]
	for i := range lines {
		keys = append(keys, lines[i].key)
	}
	done := s.clock.Now()
	if done.After(until) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "digest lease ran out before the commit; another mailer may have sent it too",
			slog.String("tenant", id), slog.String("day", day.String()))
	}
	// Record the sent email even if ctx was cancelled meanwhile.
	cctx, cancel := s.detached(ctx)
	err = s.store.Commit(cctx, id, Commit{
		Day: day, Token: token, Through: through, Reported: keys,
		Now: done, ExpireBefore: done.Add(-s.retention),
	})
	cancel()
	if err != nil {
		if len(lines) > 0 {
			return fail(fmt.Errorf("%w: commit: %w", ErrNotRecorded, err))
		}
		return release(fmt.Errorf("commit: %w", err))
	}
	s.markDone(id, day)
	return nil
}

// markDone notes that tenant id's digest of day is sent.
func (s *Mailer) markDone(id string, day Day) {
	s.mu.Lock()
	if d, ok := s.done[id]; !ok || day > d {
		s.done[id] = day
	}
	s.mu.Unlock()
}

// detached returns a context for a store call that must happen even when
// ctx is cancelled (recording a sent email, releasing a lease), bounded by
// the lease so that a hung store cannot hold the caller forever.
func (s *Mailer) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.lease)
}

// message renders the digest email of lines.
func (s *Mailer) message(id string, t Tenant, day Day, now time.Time, lines []line) (*alerts.Message, error) {
	loc := t.Schedule.location()
	link := s.viewAll.Expand(func(name string) string {
		if name == "tenant" {
			return id
		}
		return day.String()
	})
	text, html, err := s.tmpl.Execute(buildView(id, day, loc, lines, s.maxLines, s.categoryRank, s.categoryName, link))
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	events := make([]alerts.Event, len(lines))
	for i := range lines {
		l := &lines[i]
		events[i] = alerts.Event{
			Tenant: id, Category: l.category(), Asset: l.asset(), Fingerprint: l.fingerprint(),
			Summary: l.summary(), Time: l.last.Time,
		}
	}
	return &alerts.Message{
		ID:       messageID(id, day, lines),
		Tenant:   id,
		From:     t.From,
		ReplyTo:  t.ReplyTo,
		To:       slices.Clone(t.To),
		Subject:  subject(day, len(lines)),
		Text:     text,
		HTML:     html,
		Events:   events,
		Time:     now,
		Location: loc,
	}, nil
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
func (s *Mailer) Run(ctx context.Context) error {
	next := s.clock.Now() // send at once: catch up on what is due
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := s.clock.Now()
		if !now.Before(next) {
			// SendDue's failures are logged; NextDue retries them.
			_ = s.SendDue(ctx)
			now = s.clock.Now()
			if next = s.NextDue(); next.IsZero() {
				next = now.Add(24 * time.Hour)
			}
		} else if err := s.collector.Flush(ctx); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "digest collector flush failed", slog.Any("error", err))
		}
		timer.Reset(min(next.Sub(now), s.flushEach))
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.lease)
			if err := s.collector.Flush(fctx); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "digest collector flush failed", slog.Any("error", err))
			}
			cancel()
			return ctx.Err()
		case <-timer.C:
		case <-s.wake:
			next = s.clock.Now()
		}
	}
}
