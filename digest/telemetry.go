package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the name of the Mailer's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/digest"

// The attribute keys of the Mailer's metrics and spans.
const (
	attrOutcome   = attribute.Key("alertmail.digest.outcome")
	attrDay       = attribute.Key("alertmail.digest.day")
	attrLines     = attribute.Key("alertmail.digest.lines")
	attrItems     = attribute.Key("alertmail.digest.items")
	attrMessageID = attribute.Key("alertmail.message.id")
)

// The outcomes of an attempt at a tenant's digest, as the metrics name
// them.
const (
	outcomeSent         = "sent"          // an email went out
	outcomeEmpty        = "empty"         // nothing new: no email, the day is done
	outcomeNoRecipients = "no-recipients" // no one to send to: no email, the items wait
	outcomeFailed       = "failed"        // a SendError: tried again later
)

var digestOutcomes = [...]string{outcomeSent, outcomeEmpty, outcomeNoRecipients, outcomeFailed}

// telemetry is what a Mailer reports of its work besides its errors: log
// records, spans and metrics.
type telemetry struct {
	log    *slog.Logger
	tracer trace.Tracer // nil: no spans
	m      *meters      // nil: no metrics
}

type meters struct {
	appended, deduplicated, reported metric.Int64Counter
	digests                          metric.Int64Counter
	byOutcome                        map[string][]metric.AddOption
}

// newTelemetry returns the telemetry of a Mailer configured by cfg, whose
// Logger is set.
func newTelemetry(cfg *MailerConfig) (*telemetry, error) {
	t := &telemetry{log: cfg.Logger}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider == nil {
		return t, nil
	}
	meter := cfg.MeterProvider.Meter(instrumentation)
	m := &meters{byOutcome: make(map[string][]metric.AddOption)}
	var errs [4]error
	m.appended, errs[0] = meter.Int64Counter("alertmail.digest.items.appended", metric.WithUnit("{item}"),
		metric.WithDescription("Items added to the tenants' pending lists through the Mailer (the Dispatcher's events under their threshold)."))
	m.deduplicated, errs[1] = meter.Int64Counter("alertmail.digest.items.deduplicated", metric.WithUnit("{item}"),
		metric.WithDescription("Pending items a digest did not list on a line of their own: a repeat of another item's notification, or one reported within the retention."))
	m.reported, errs[2] = meter.Int64Counter("alertmail.digest.items.reported", metric.WithUnit("{item}"),
		metric.WithDescription("Pending items a digest sent reported, on their notification's line."))
	m.digests, errs[3] = meter.Int64Counter("alertmail.digest.digests", metric.WithUnit("{digest}"),
		metric.WithDescription("Attempts at a tenant's digest, by outcome: sent, empty (nothing new), no-recipients, failed (tried again later)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("%w: MailerConfig.MeterProvider: %w", ErrConfig, err)
	}
	for _, o := range digestOutcomes {
		m.byOutcome[o] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrOutcome.String(o)))}
	}
	t.m = m
	return t, nil
}

// appended records n items appended.
func (t *telemetry) appended(ctx context.Context, n int) {
	if t.m != nil {
		t.m.appended.Add(ctx, int64(n))
	}
}

// start starts the span of an attempt at tenant's digest: one a day per
// tenant, a root span when ctx has none.
func (t *telemetry) start(ctx context.Context) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	return t.tracer.Start(ctx, "alertmail.digest.send")
}

// A report is what an attempt at a digest did, for its telemetry.
type report struct {
	tenant       string
	day          Day
	outcome      string // empty: the attempt found the digest sent, or another mailer at it
	messageID    string
	lines, items int // of the email sent
	deduplicated int
}

// done records the attempt r, which returned err, and ends span.
func (t *telemetry) done(ctx context.Context, span trace.Span, r *report, err error) {
	if err != nil {
		r.outcome = outcomeFailed
	}
	if r.outcome == outcomeSent {
		t.log.LogAttrs(ctx, slog.LevelInfo, "digest sent", slog.String("tenant", r.tenant), slog.String("day", r.day.String()),
			slog.String("message", r.messageID), slog.Int("lines", r.lines), slog.Int("items", r.items))
	}
	if t.m != nil && r.outcome != "" {
		t.m.digests.Add(ctx, 1, t.m.byOutcome[r.outcome]...)
	}
	if t.m != nil && (r.outcome == outcomeSent || r.outcome == outcomeEmpty) {
		if r.items > 0 {
			t.m.reported.Add(ctx, int64(r.items))
		}
		if r.deduplicated > 0 {
			t.m.deduplicated.Add(ctx, int64(r.deduplicated))
		}
	}
	if span == nil {
		return
	}
	span.SetAttributes(attrDay.String(r.day.String()), attrOutcome.String(r.outcome), attrLines.Int(r.lines), attrItems.Int(r.items))
	if r.messageID != "" {
		span.SetAttributes(attrMessageID.String(r.messageID))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
