package spf

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/internal/tally"
)

// instrumentation is the name of the Checker's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/mailauth/spf"

// The attribute keys of the Checker's metrics and spans.
const (
	attrResult  = attribute.Key("alertmail.spf.result")
	attrDomain  = attribute.Key("alertmail.spf.domain")
	attrLookups = attribute.Key("alertmail.spf.lookups")
	attrVoid    = attribute.Key("alertmail.spf.void_lookups")
)

// results are the results a check returns, in the order of telemetry.checks.
var results = [...]Result{None, Neutral, Pass, Fail, SoftFail, TempError, PermError}

// telemetry is what a Checker reports of its checks besides their results:
// a count by result, a span, a log record. Its methods cost no allocation
// when the providers and the logger are nil.
type telemetry struct {
	log    *slog.Logger // nil: none
	tracer trace.Tracer // nil: no spans
	checks [len(results)]*tally.Series
}

// newTelemetry returns the telemetry of a Checker configured by cfg, nil
// if it has neither providers nor logger.
func newTelemetry(cfg *Config) (*telemetry, error) {
	if cfg.MeterProvider == nil && cfg.TracerProvider == nil && cfg.Logger == nil {
		return nil, nil
	}
	t := &telemetry{log: cfg.Logger}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider != nil {
		tl := tally.New(cfg.MeterProvider.Meter(instrumentation))
		in := tl.Counter("alertmail.spf.checks", metric.WithUnit("{check}"),
			metric.WithDescription("SPF checks (check_host), by result."))
		for i, r := range results {
			t.checks[i] = in.Series(attribute.NewSet(attrResult.String(string(r))))
		}
		if _, err := tl.Register(); err != nil {
			return nil, fmt.Errorf("spf: Config.MeterProvider: %w", err)
		}
	}
	return t, nil
}

// start starts the span of a check of domain, only within a recording
// span of the caller's (an SPF check takes about a microsecond, less than
// a span), and returns it, nil when none was started.
func (t *telemetry) start(ctx context.Context, domain string) (context.Context, trace.Span) {
	if t == nil || t.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	return t.tracer.Start(ctx, "alertmail.spf.check", trace.WithAttributes(attrDomain.String(domain)))
}

// checked records the check x, whose span is span (nil for none).
func (t *telemetry) checked(ctx context.Context, span trace.Span, x *Explanation) {
	if t == nil {
		return
	}
	for i, r := range results {
		if r == x.Result {
			t.checks[i].Add(1)
			break
		}
	}
	if span != nil {
		span.SetAttributes(attrResult.String(string(x.Result)), attrLookups.Int(x.Lookups), attrVoid.Int(x.VoidLookups))
		if x.Result == TempError && x.Err != nil {
			span.SetStatus(codes.Error, x.Err.Error())
		}
		span.End()
	}
	if t.log != nil && t.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("domain", x.Domain), slog.String("ip", x.IP.String()), slog.String("result", string(x.Result)), slog.Int("lookups", x.Lookups)}
		if x.Err != nil {
			attrs = append(attrs, slog.Any("error", x.Err))
		}
		t.log.LogAttrs(ctx, slog.LevelDebug, "spf: check", attrs...)
	}
}
