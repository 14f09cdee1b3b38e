package dmarc

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

// instrumentation is the name of the Evaluator's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/mailauth/dmarc"

// The attribute keys of the Evaluator's metrics and spans.
const (
	attrResult      = attribute.Key("alertmail.dmarc.result")
	attrGeneration  = attribute.Key("alertmail.dmarc.generation")
	attrDomain      = attribute.Key("alertmail.dmarc.author_domain")
	attrDisposition = attribute.Key("alertmail.dmarc.disposition")
)

// results are the results of an evaluation, in the order of
// telemetry.byResult.
var results = [...]Result{Pass, Fail, None, TempError, PermError}

// telemetry is what an Evaluator reports of its evaluations besides their
// verdicts. Its methods do nothing on a nil telemetry.
type telemetry struct {
	log         *slog.Logger // nil: none
	tracer      trace.Tracer // nil: no spans
	evaluations metric.Int64Counter
	byResult    [len(results)][]metric.AddOption
	generation  string
}

// newTelemetry returns the telemetry of an Evaluator configured by cfg,
// nil if it has neither providers nor logger.
func newTelemetry(cfg *Config) (*telemetry, error) {
	if cfg.MeterProvider == nil && cfg.TracerProvider == nil && cfg.Logger == nil {
		return nil, nil
	}
	t := &telemetry{log: cfg.Logger, generation: map[Generation]string{RFC9989: "rfc9989", RFC7489: "rfc7489"}[cfg.Generation]}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider != nil {
		var err error
		t.evaluations, err = cfg.MeterProvider.Meter(instrumentation).Int64Counter("alertmail.dmarc.evaluations", metric.WithUnit("{evaluation}"),
			metric.WithDescription("DMARC evaluations, by result and by the generation of receivers followed (rfc7489, rfc9989)."))
		if err != nil {
			return nil, fmt.Errorf("dmarc: Config.MeterProvider: %w", err)
		}
		for i, r := range results {
			t.byResult[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrResult.String(string(r)), attrGeneration.String(t.generation)))}
		}
	}
	return t, nil
}

// start starts the span of an evaluation within a recording span of the
// caller's, and returns it, nil when none was started.
func (t *telemetry) start(ctx context.Context) (context.Context, trace.Span) {
	if t == nil || t.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	return t.tracer.Start(ctx, "alertmail.dmarc.evaluate", trace.WithAttributes(attrGeneration.String(t.generation)))
}

// evaluated records the verdict v (nil with err for input that cannot be
// evaluated), whose span is span.
func (t *telemetry) evaluated(ctx context.Context, span trace.Span, v *Verdict, err error) {
	if t == nil {
		return
	}
	if v != nil && t.evaluations != nil {
		for i, r := range results {
			if r == v.Result {
				t.evaluations.Add(ctx, 1, t.byResult[i]...)
				break
			}
		}
	}
	if span != nil {
		if v != nil {
			span.SetAttributes(attrResult.String(string(v.Result)), attrDomain.String(v.AuthorDomain), attrDisposition.String(string(v.Disposition)))
		}
		if cause := errors.Join(err, verdictErr(v)); cause != nil {
			span.RecordError(cause)
			span.SetStatus(codes.Error, cause.Error())
		}
		span.End()
	}
	if t.log != nil && v != nil {
		t.log.LogAttrs(ctx, slog.LevelDebug, "dmarc: evaluated", slog.String("domain", v.AuthorDomain), slog.String("generation", t.generation),
			slog.String("result", string(v.Result)), slog.String("disposition", string(v.Disposition)))
	}
}

// verdictErr returns the error of a temperror verdict.
func verdictErr(v *Verdict) error {
	if v == nil || v.Result != TempError {
		return nil
	}
	return v.Err
}
