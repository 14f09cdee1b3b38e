package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// DefaultLeaseTTL is how long a dispatcher may hold events it took for one
// email before they return to pending, when [DispatcherConfig] leaves
// LeaseTTL zero.
const DefaultLeaseTTL = 5 * time.Minute

// A SettingsLoader loads a tenant's saved settings. Every [SettingsStore]
// satisfies it. Implementations must be safe for concurrent use: a
// Dispatcher calls Load from every goroutine that dispatches.
type SettingsLoader interface {
	Load(ctx context.Context, tenant string) (*Settings, error)
}

// SettingsLoaderFunc adapts an ordinary function to the [SettingsLoader]
// interface.
type SettingsLoaderFunc func(ctx context.Context, tenant string) (*Settings, error)

// Load returns f(ctx, tenant).
func (f SettingsLoaderFunc) Load(ctx context.Context, tenant string) (*Settings, error) {
	return f(ctx, tenant)
}

// A SettingsSaver saves a tenant's settings with optimistic versioning, as
// [SettingsStore.Save] does; [Dispatcher.Save] saves through it. Every
// SettingsStore satisfies it. Implementations must be safe for concurrent
// use.
type SettingsSaver interface {
	Save(ctx context.Context, next *Settings) (*Settings, error)
}

// SettingsSaverFunc adapts an ordinary function to the [SettingsSaver]
// interface.
type SettingsSaverFunc func(ctx context.Context, next *Settings) (*Settings, error)

// Save returns f(ctx, next).
func (f SettingsSaverFunc) Save(ctx context.Context, next *Settings) (*Settings, error) {
	return f(ctx, next)
}

// A Renderer fills a message's Subject, Text and HTML from its category,
// tenant, events, Carried count and Location. [*Content] is the SDK's
// renderer. Implementations must be safe for concurrent use.
type Renderer interface {
	Render(msg *Message) error
}

// RendererFunc adapts an ordinary function to the [Renderer] interface.
type RendererFunc func(msg *Message) error

// Render returns f(msg).
func (f RendererFunc) Render(msg *Message) error { return f(msg) }

// A Digester takes the events that do not warrant an immediate alert, for
// the daily digest: the [Dispatcher] hands it each event under its
// category's threshold ([BelowThreshold]). The digest's mailer implements
// it (package alerts does not depend on package digest); a host may wrap
// its own sink in a [DigesterFunc].
//
// Digest returns nil once it holds the events, all of them or, with an
// error, none: the Dispatcher then returns the error, and the host
// dispatches the event again. The events are valid and of one tenant. It
// must not keep the slice. Implementations must be safe for concurrent use.
type Digester interface {
	Digest(ctx context.Context, events []Event) error
}

// DigesterFunc adapts an ordinary function to the [Digester] interface.
type DigesterFunc func(ctx context.Context, events []Event) error

// Digest returns f(ctx, events).
func (f DigesterFunc) Digest(ctx context.Context, events []Event) error { return f(ctx, events) }

// DispatcherConfig configures [NewDispatcher]. Settings and Notifier are
// required; every other field has a working zero value.
type DispatcherConfig struct {
	// Settings loads each tenant's settings, which say whether a category
	// is on and who receives its emails. Required.
	Settings SettingsLoader
	// Saver saves settings for [Dispatcher.Save]; normally the same
	// [SettingsStore] as Settings. Default: none, and Dispatcher.Save
	// returns an error naming this field.
	Saver SettingsSaver
	// Notifier delivers the emails. Required.
	Notifier Notifier
	// Renderer renders the emails. Default: a [Content] with the built-in
	// templates and Catalog.
	Renderer Renderer
	// Catalog holds the categories events may have: give it the settings
	// store's catalog ([MemorySettingsStore.Catalog]). An event whose
	// Category is not in it, matched exactly (ids are lower case, so
	// "Active-Threat" is not "active-threat"), is refused with
	// [ErrInvalidEvent]; the default renderer names the categories as it
	// does. Default: the catalog of each tenant's settings
	// ([Settings.Catalog]) for events, and [DefaultCatalog] for the
	// renderer and for Thresholds.
	Catalog *Catalog
	// Store keeps the frequency limits and pending events. Default: a new
	// [MemoryLimitStore], right for one process; replicas share a store.
	Store LimitStore
	// Limit is the frequency limit of every key (tenant and category).
	// Default: 5 emails, then a 4-hour cooling period.
	Limit FrequencyLimit
	// Thresholds holds the categories whose events must reach a score to
	// fire; events of other categories fire whatever their score (every
	// score must be valid, see [ErrInvalidScore]). Each id must be in
	// Catalog (the built-in categories when Catalog is nil): a threshold
	// for any other is an error. Default: Active Threat at
	// [DefaultThreshold]. A non-nil map replaces the default entirely.
	Thresholds map[CategoryID]Threshold
	// Digest receives the events under their category's threshold, for
	// the daily digest: give it the digest's mailer. Default: none, and
	// such events are not recorded (the Outcome is [BelowThreshold]
	// either way).
	Digest Digester
	// Sender chooses the From, Reply-To and DKIM signing domain of every
	// email, just before Notify; give it the same policy as the digest's
	// mailer (package alerts/mailauthsender). Default: none, and the
	// messages leave them empty, for the Notifier's defaults.
	Sender SenderPolicy
	// LeaseTTL bounds one send: the events taken for an email return to
	// pending if the send is neither confirmed nor abandoned within it (the
	// replica died). Notify's context ends with the lease, and an email
	// whose lease is over before Notify (by the Clock) is not sent. It
	// must be longer than NotifyTimeout. Default: DefaultLeaseTTL.
	LeaseTTL time.Duration
	// NotifyTimeout is the longest the Notifier may take to return, its
	// worst case: timeouts times attempts plus backoff (smtpnotify states
	// it as (*Notifier).MaxDuration). NewDispatcher refuses a LeaseTTL
	// that is not longer, so that a send fails within its lease and its
	// GiveBack releases the slot: a lease that runs out counts as a send
	// (see [Grant]), and a relay that hangs would otherwise spend the
	// frequency limit on emails never delivered. Default: the Notifier's
	// own statement when it has a method MaxDuration() time.Duration (as
	// smtpnotify's Notifier does), else 0, unknown, and LeaseTTL is not
	// checked against it.
	NotifyTimeout time.Duration
	// OnRefused, when set, receives the recipients the Notifier refused
	// permanently (a [*RefusedError]), with the key of the email, right
	// after Notify returns: the place to flag dead addresses on the
	// settings screen. It runs on the sending goroutine, so it should be
	// quick; it must be safe for concurrent use and may keep the slice.
	// Default: none (the refusals are still in [Result.Refused] and the
	// log).
	OnRefused func(ctx context.Context, key LimitKey, refused []Refusal)
	// Location returns the time zone of a tenant's recipients; the
	// Dispatcher sets it as [Message.Location], in which the emails show
	// event times. It is the one place a tenant's zone is configured. It
	// must be safe for concurrent use. Default: nil, as is a nil result:
	// the renderer's default zone ([ContentConfig.Location], UTC unless
	// configured).
	Location func(tenant string) *time.Location
	// Async makes [Dispatcher.Dispatch] record each event and return at
	// once with [Queued], leaving the email to [Dispatcher.Run] (or
	// [Dispatcher.FlushDue]): the mode for an HTTP handler that ingests
	// events, which must not wait on a relay. Default: false, and Dispatch
	// sends inline, the mode for a host that consumes a queue.
	Async bool
	// RetryBackoff is how long after a failed send ([SendFailed],
	// [NoRecipients]) its events fall due again, doubled at each further
	// failure of the key up to MaxRetryBackoff, each delay drawn at random
	// from its upper half so that replicas do not retry in step. Default:
	// 30 seconds.
	RetryBackoff time.Duration
	// MaxRetryBackoff caps RetryBackoff's doubling. Default: 30 minutes,
	// or RetryBackoff if that is longer.
	MaxRetryBackoff time.Duration
	// PollInterval is the longest [Dispatcher.Run] sleeps before asking
	// the store what is due: the due times this dispatcher sets wake it at
	// once, those of other replicas (a failed send's retry, a lease left
	// by a replica that died) within PollInterval of falling due. Default:
	// 5 seconds.
	PollInterval time.Duration
	// FlushConcurrency is how many keys [Dispatcher.FlushDue] flushes at
	// once, so that one slow relay does not hold up the others. Default:
	// 8.
	FlushConcurrency int
	// Clock tells the time. Default: [SystemClock]. [Dispatcher.Run]
	// sleeps on the standard timers for the durations the Clock gives, so
	// it runs on a Clock that moves with real time (or with the fake time
	// of testing/synctest); with a clock moved by hand, call
	// [Dispatcher.FlushDue] after moving it instead.
	Clock Clock
	// Logger receives a record of each email sent (Info: key, Message.ID,
	// events), of each send that failed (Warn), of refused recipients (their
	// number at Warn, the addresses at Debug) and of events moved to the
	// undelivered list (Error). Default: none.
	Logger *slog.Logger
	// MeterProvider gives the Dispatcher's metrics (see the README's
	// table): outcomes by category, events per email, recipients refused,
	// the limiter's latency, and the pending and undelivered events, which
	// the Dispatcher sums from the counts its Results report, per key, as
	// this process last saw them (a store has no cheap count of its own;
	// with replicas, each reports the keys it handled). Default: none, the
	// no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives the Dispatcher's spans: one per Notify
	// ("alertmail.notify", with the Message.ID; a root span when the
	// context has none), and one per Dispatch or Flush
	// ("alertmail.dispatch", "alertmail.flush") when the context carries a
	// recording span (the host's request), so that a storm of suppressed
	// events costs no span each. Default: none, the no-op provider; never
	// the global one.
	TracerProvider trace.TracerProvider
}

// NewDispatcher returns a Dispatcher configured by cfg, or an error naming
// the field of cfg that is wrong.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		settings:   cfg.Settings,
		saver:      cfg.Saver,
		notifier:   cfg.Notifier,
		renderer:   cfg.Renderer,
		catalog:    cfg.Catalog,
		digest:     cfg.Digest,
		sender:     cfg.Sender,
		store:      cfg.Store,
		limit:      cfg.Limit.WithDefaults(),
		thresholds: maps.Clone(cfg.Thresholds),
		leaseTTL:   cmp.Or(cfg.LeaseTTL, DefaultLeaseTTL),
		onRefused:  cfg.OnRefused,
		location:   cfg.Location,
		clock:      cfg.Clock,
		log:        cfg.Logger,

		async:         cfg.Async,
		notifyTimeout: cfg.notifyTimeout(),
		retry:         newBackoff(cfg.RetryBackoff, cfg.MaxRetryBackoff),
		poll:          cmp.Or(cfg.PollInterval, defaultPollInterval),
		workers:       cmp.Or(cfg.FlushConcurrency, defaultFlushConcurrency),
		wake:          make(chan struct{}, 1),
	}
	if d.thresholds == nil {
		d.thresholds = map[CategoryID]Threshold{ActiveThreat: DefaultThreshold}
	}
	if d.renderer == nil {
		d.renderer = &Content{cfg: ContentConfig{Catalog: cfg.Catalog}}
	}
	if d.store == nil {
		d.store = new(MemoryLimitStore)
	}
	if d.clock == nil {
		d.clock = SystemClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if d.tel, err = newTelemetry(&cfg, d.log); err != nil {
		return nil, err
	}
	return d, nil
}

// validate names the first field of cfg that is wrong.
func (cfg *DispatcherConfig) validate() error {
	switch {
	case cfg.Settings == nil:
		return errors.New("alerts: DispatcherConfig.Settings is nil")
	case cfg.Notifier == nil:
		return errors.New("alerts: DispatcherConfig.Notifier is nil")
	case cfg.FlushConcurrency < 0:
		return fmt.Errorf("alerts: DispatcherConfig.FlushConcurrency %d is negative", cfg.FlushConcurrency)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"LeaseTTL", cfg.LeaseTTL}, {"NotifyTimeout", cfg.NotifyTimeout}, {"RetryBackoff", cfg.RetryBackoff},
		{"MaxRetryBackoff", cfg.MaxRetryBackoff}, {"PollInterval", cfg.PollInterval},
	} {
		if f.d < 0 {
			return fmt.Errorf("alerts: DispatcherConfig.%s %v is negative", f.name, f.d)
		}
	}
	notifyTimeout, which := cfg.notifyTimeout(), "DispatcherConfig.NotifyTimeout"
	if cfg.NotifyTimeout == 0 {
		which = "DispatcherConfig.NotifyTimeout (0: the Notifier's MaxDuration)"
	}
	if lease := cmp.Or(cfg.LeaseTTL, DefaultLeaseTTL); notifyTimeout > 0 && lease <= notifyTimeout {
		return fmt.Errorf("alerts: DispatcherConfig.LeaseTTL %v (0 means %v) is not longer than %s %v: a send that fails could outlive its lease and charge the frequency limit",
			cfg.LeaseTTL, DefaultLeaseTTL, which, notifyTimeout)
	}
	if err := cfg.Limit.Validate(); err != nil {
		return fmt.Errorf("alerts: DispatcherConfig.Limit: %w", err)
	}
	catalog, which := cfg.Catalog, "DispatcherConfig.Catalog"
	if catalog == nil {
		catalog, which = DefaultCatalog(), "the built-in categories (DispatcherConfig.Catalog is nil)"
	}
	// In order, so that the same configuration gives the same error.
	for _, id := range slices.Sorted(maps.Keys(cfg.Thresholds)) {
		if _, ok := catalog.Lookup(id); !ok {
			return &CategoryError{ID: id, Reason: "DispatcherConfig.Thresholds names it, but it is not in " + which, Err: ErrUnknownCategory}
		}
		if err := cfg.Thresholds[id].Validate(); err != nil {
			return fmt.Errorf("alerts: DispatcherConfig.Thresholds[%q]: %w", id, err)
		}
	}
	return nil
}

// notifyTimeout returns NotifyTimeout or, when it is 0, the Notifier's own
// statement of its worst case, if it makes one; 0 means unknown.
func (cfg *DispatcherConfig) notifyTimeout() time.Duration {
	if cfg.NotifyTimeout > 0 {
		return cfg.NotifyTimeout
	}
	if m, ok := cfg.Notifier.(interface{ MaxDuration() time.Duration }); ok {
		return max(m.MaxDuration(), 0)
	}
	return 0
}
