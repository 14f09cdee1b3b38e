package alerts

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/internal/tally"
)

// instrumentation is the name of the Dispatcher's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/alerts"

// The attribute keys of the Dispatcher's metrics and spans. Metric
// attributes are bounded by the catalog and the outcomes: never a tenant,
// never an address.
const (
	attrCategory  = attribute.Key("alertmail.category")
	attrOutcome   = attribute.Key("alertmail.outcome")
	attrCodeClass = attribute.Key("alertmail.smtp.code_class")
	attrStore     = attribute.Key("alertmail.store")
	attrMessageID = attribute.Key("alertmail.message.id")
	attrEvents    = attribute.Key("alertmail.events")
	attrPending   = attribute.Key("alertmail.pending")
	attrRefused   = attribute.Key("alertmail.recipients.refused")
)

// telemetry is what a Dispatcher reports of its work besides its Results:
// log records, spans and metrics. Every method is safe on a telemetry
// without tracer or meters (the providers were nil), and then costs no
// allocation.
type telemetry struct {
	log    *slog.Logger
	tracer trace.Tracer // nil: no spans
	m      *meters      // nil: no metrics
}

// meters are the Dispatcher's instruments. The counts of the paths every
// event takes (outcomes, pending) are kept in memory and read at each
// collection (package internal/tally), so that a suppressed Dispatch pays
// an atomic add, not a synchronous instrument's call.
type meters struct {
	outcomes, carried, refused *tally.Instrument
	pending, undelivered       *tally.Instrument
	emailEvents                metric.Int64Histogram
	storeLatency               metric.Float64Histogram

	fastStore  atomic.Bool                           // the store's last timed decision took less than fastCall
	storeOpts  atomic.Pointer[[]metric.RecordOption] // the store's attributes, made on first use
	keys       sync.Map                              // LimitKey → *keyMeters
	categories sync.Map                              // CategoryID → *categoryMeters
	// recent holds the meters of keys seen lately, by a hash of the
	// tenant: a storm hits one key again and again, and a slot is cheaper
	// than keys' lookup.
	recent [256]atomic.Pointer[keyMeters]
	seed   maphash.Seed
}

// categoryMeters are the series of one category, made on its first use.
type categoryMeters struct {
	m           *meters
	set         attribute.Set
	outcomes    sync.Map // Outcome → *outcomeSeries
	carried     *tally.Series
	pending     *tally.Series
	undelivered *tally.Series
	refused     sync.Map // code class → *tally.Series
	emailEvents []metric.RecordOption
}

// keyMeters are what this process last saw of one key's pending and
// undelivered events; their sums by category are the gauges.
type keyMeters struct {
	key                  LimitKey
	cat                  *categoryMeters
	pending, undelivered atomic.Int64
	last                 atomic.Pointer[outcomeSeries] // the key's last outcome: a storm repeats it
}

// outcomeSeries is the series of one outcome of a category.
type outcomeSeries struct {
	outcome Outcome
	series  *tally.Series
}

// newTelemetry returns the telemetry of a Dispatcher configured by cfg.
func newTelemetry(cfg *DispatcherConfig, log *slog.Logger) (*telemetry, error) {
	t := &telemetry{log: log}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider == nil {
		return t, nil
	}
	meter := cfg.MeterProvider.Meter(instrumentation)
	m := &meters{seed: maphash.MakeSeed()}
	tl := tally.New(meter)
	m.outcomes = tl.Counter("alertmail.alerts.outcomes", metric.WithUnit("{decision}"),
		metric.WithDescription("Results of Dispatch and Flush, by outcome and category: for Dispatch, what became of the event."))
	m.carried = tl.Counter("alertmail.alerts.carried", metric.WithUnit("{event}"),
		metric.WithDescription("Events sent in a later email than their own Dispatch's: held back by the frequency limit, or by a failed send."))
	m.refused = tl.Counter("alertmail.alerts.recipients.refused", metric.WithUnit("{recipient}"),
		metric.WithDescription("Recipients the notifier refused permanently, by category and reply-code class."))
	m.pending = tl.UpDownCounter("alertmail.alerts.pending", metric.WithUnit("{event}"),
		metric.WithDescription("Events waiting for the next allowed email, by category, as this process last saw each key."))
	m.undelivered = tl.UpDownCounter("alertmail.alerts.undelivered", metric.WithUnit("{event}"),
		metric.WithDescription("Events of emails refused permanently, waiting for a requeue, by category, as this process last saw each key."))
	if _, err := tl.Register(); err != nil {
		return nil, fmt.Errorf("alerts: DispatcherConfig.MeterProvider: %w", err)
	}
	var err1, err2 error
	m.emailEvents, err1 = meter.Int64Histogram("alertmail.alerts.email.events", metric.WithUnit("{event}"),
		metric.WithDescription("Events per email sent, by category; its count is the emails sent."),
		metric.WithExplicitBucketBoundaries(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000))
	m.storeLatency, err2 = meter.Float64Histogram("alertmail.alerts.limiter.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the limiter's decisions (LimitStore.Take), by store; a store faster than 20 µs has one decision in 64 timed."),
		metric.WithExplicitBucketBoundaries(0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("alerts: DispatcherConfig.MeterProvider: %w", err)
	}
	t.m = m
	return t, nil
}

// category returns the series of category id.
func (m *meters) category(id CategoryID) *categoryMeters {
	if c, ok := m.categories.Load(id); ok {
		return c.(*categoryMeters)
	}
	set := attribute.NewSet(attrCategory.String(string(id)))
	c := &categoryMeters{
		m:           m,
		set:         set,
		carried:     m.carried.Series(set),
		pending:     m.pending.Series(set),
		undelivered: m.undelivered.Series(set),
		emailEvents: []metric.RecordOption{metric.WithAttributeSet(set)},
	}
	got, _ := m.categories.LoadOrStore(id, c)
	return got.(*categoryMeters)
}

// key returns the meters of key.
func (m *meters) key(key LimitKey) *keyMeters {
	slot := &m.recent[(maphash.String(m.seed, key.Tenant)+uint64(len(key.Category)))%uint64(len(m.recent))]
	if k := slot.Load(); k != nil && k.key == key {
		return k
	}
	k, ok := m.keys.Load(key)
	if !ok {
		k, _ = m.keys.LoadOrStore(key, &keyMeters{key: key, cat: m.category(key.Category)})
	}
	slot.Store(k.(*keyMeters))
	return k.(*keyMeters)
}

// outcome returns the series of outcome o of k's category. Any Outcome
// is counted, those added later too.
func (k *keyMeters) outcome(o Outcome) *tally.Series {
	if last := k.last.Load(); last != nil && last.outcome == o {
		return last.series
	}
	c := k.cat
	s, ok := c.outcomes.Load(o)
	if !ok {
		s, _ = c.outcomes.LoadOrStore(o, &outcomeSeries{o, c.m.outcomes.Series(attribute.NewSet(attrCategory.String(c.category()), attrOutcome.String(string(o))))})
	}
	os := s.(*outcomeSeries)
	k.last.Store(os)
	return os.series
}

// refusedSeries returns the series of refused recipients of c whose
// reply code is in class.
func (c *categoryMeters) refusedSeries(class string) *tally.Series {
	if s, ok := c.refused.Load(class); ok {
		return s.(*tally.Series)
	}
	s := c.m.refused.Series(attribute.NewSet(attrCategory.String(c.category()), attrCodeClass.String(class)))
	got, _ := c.refused.LoadOrStore(class, s)
	return got.(*tally.Series)
}

func (c *categoryMeters) category() string {
	v, _ := c.set.Value(attrCategory)
	return v.AsString()
}

// setPending records n as key's pending events.
func (k *keyMeters) setPending(n int64) { k.cat.pending.Add(n - k.pending.Swap(n)) }

// addPending adds n to key's pending events.
func (k *keyMeters) addPending(n int64) {
	k.pending.Add(n)
	k.cat.pending.Add(n)
}

// setUndelivered records n as key's undelivered events.
func (k *keyMeters) setUndelivered(n int64) { k.cat.undelivered.Add(n - k.undelivered.Swap(n)) }

// addUndelivered adds n to key's undelivered events.
func (k *keyMeters) addUndelivered(n int64) {
	k.undelivered.Add(n)
	k.cat.undelivered.Add(n)
}

// start starts the span of a Dispatch or Flush, only within a recording
// span of the caller's: a storm of suppressed events costs no span each,
// and a host that traces its requests sees the decisions in them. The
// span is nil when none was started.
func (t *telemetry) start(ctx context.Context, name string) (context.Context, trace.Span) {
	if t.tracer == nil { // small enough to inline: no cost without a provider
		return ctx, nil
	}
	return t.startIn(ctx, name)
}

// startIn is start with a tracer.
func (t *telemetry) startIn(ctx context.Context, name string) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	return t.tracer.Start(ctx, name)
}

// result records what a Dispatch (fresh 1, its event) or a Flush (fresh 0)
// of key decided: res and err as the call returns them, on span if not nil
// and in the metrics; a sent email gets a log record. A call refused
// before any decision (no Outcome) records only its error.
func (t *telemetry) result(ctx context.Context, span trace.Span, key LimitKey, fresh int, res *Result, err error) {
	if span == nil && t.m == nil && res.Outcome != Sent {
		return // small enough to inline: no cost without a provider
	}
	t.record(ctx, span, key, fresh, res, err)
}

// record is result when there is something to record.
func (t *telemetry) record(ctx context.Context, span trace.Span, key LimitKey, fresh int, res *Result, err error) {
	if res.Outcome == Sent {
		t.log.LogAttrs(ctx, slog.LevelInfo, "alerts: email sent", slog.String("key", key.String()), slog.String("message", res.MessageID),
			slog.Int("events", res.Events), slog.Int("carried", res.Events-fresh), slog.Int("refused", len(res.Refused)))
	}
	if span != nil {
		endSpan(span, res, err)
	}
	if t.m == nil || res.Outcome == "" {
		return
	}
	k := t.m.key(key)
	c := k.cat
	k.outcome(res.Outcome).Add(1)
	switch res.Outcome {
	case Sent:
		c.carried.Add(int64(res.Events - fresh))
		t.m.emailEvents.Record(ctx, int64(res.Events), c.emailEvents...)
	case Undeliverable:
		k.addUndelivered(int64(res.Events - res.Dropped))
	}
	for _, r := range res.Refused {
		c.refusedSeries(ReplyClass(r.Code)).Add(1)
	}
	if pendingReported(res.Outcome) {
		k.setPending(int64(res.Pending))
	}
}

// pendingReported reports whether a Result of outcome o says how many
// events its key has pending (BelowThreshold does not look).
func pendingReported(o Outcome) bool { return o != BelowThreshold }

// endSpan sets what res and err say on span, and ends it.
func endSpan(span trace.Span, res *Result, err error) {
	attrs := make([]attribute.KeyValue, 0, 4)
	if res.Outcome != "" {
		attrs = append(attrs, attrOutcome.String(string(res.Outcome)), attrPending.Int(res.Pending))
	}
	if res.MessageID != "" {
		attrs = append(attrs, attrMessageID.String(res.MessageID), attrEvents.Int(res.Events))
	}
	span.SetAttributes(attrs...)
	switch {
	case err != nil:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	case res.Err != nil:
		span.SetStatus(codes.Error, res.Err.Error())
	}
	span.End()
}

// startNotify starts the span of a Notify of msg: every email gets one, a
// root span when ctx has none.
func (t *telemetry) startNotify(ctx context.Context, msg *Message) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	return t.tracer.Start(ctx, "alertmail.notify", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attrCategory.String(string(msg.Category)),
		attrMessageID.String(msg.ID),
		attrEvents.Int(len(msg.Events)),
		attribute.Int("alertmail.recipients", len(msg.To)),
	))
}

// endNotify ends the span of a Notify that returned err.
func endNotify(span trace.Span, err error) {
	if span == nil {
		return
	}
	if refused, ok := errors.AsType[*RefusedError](err); ok {
		span.SetAttributes(attrRefused.Int(len(refused.Refused)))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// drained records that key has no pending event left.
func (t *telemetry) drained(key LimitKey) {
	if t.m != nil {
		t.m.key(key).setPending(0)
	}
}

// requeued records that n undelivered events of key went back to pending.
func (t *telemetry) requeued(key LimitKey, n int) {
	if t.m != nil {
		k := t.m.key(key)
		k.setUndelivered(0)
		k.addPending(int64(n))
	}
}

// listedUndelivered records that key has n undelivered events.
func (t *telemetry) listedUndelivered(key LimitKey, n int) {
	if t.m != nil {
		t.m.key(key).setUndelivered(int64(n))
	}
}

// decisionStart returns the time a limiter decision (LimitStore.Take)
// starts, or the zero time if it is not timed. Timing a call costs about
// 0.2 µs (two clock reads and a histogram record), as much as a whole call
// to the in-memory store: a store whose last timed call took less than
// fastCall gets one call in sampleEvery timed, at random, slower ones (a
// network store) every call. The histogram's count is then a fraction of
// the calls; its quantiles are theirs.
func (t *telemetry) decisionStart() time.Time {
	if t.m == nil {
		return time.Time{}
	}
	return t.m.decisionStart()
}

func (m *meters) decisionStart() time.Time {
	if m.fastStore.Load() && rand.Uint32()%sampleEvery != 0 {
		return time.Time{}
	}
	return time.Now()
}

// decided records the latency of a limiter decision of store that began
// at start, if timed.
func (t *telemetry) decided(ctx context.Context, store LimitStore, start time.Time) {
	if !start.IsZero() {
		t.m.decided(ctx, store, start)
	}
}

func (m *meters) decided(ctx context.Context, store LimitStore, start time.Time) {
	d := time.Since(start)
	m.fastStore.Store(d < fastCall)
	m.storeLatency.Record(ctx, d.Seconds(), m.storeAttrs(store)...)
}

const (
	fastCall    = 20 * time.Microsecond
	sampleEvery = 64
)

// storeAttrs returns the attributes of the latency of store: its type,
// "memory" for the MemoryLimitStore.
func (m *meters) storeAttrs(store LimitStore) []metric.RecordOption {
	if opts := m.storeOpts.Load(); opts != nil {
		return *opts
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", store), "*")
	if _, ok := store.(*MemoryLimitStore); ok {
		name = "memory"
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrStore.String(name)))}
	m.storeOpts.Store(&opts)
	return opts
}
