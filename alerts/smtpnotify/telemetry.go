package smtpnotify

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/alerts"
)

// instrumentation is the name of the Notifier's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/alerts/smtpnotify"

// The attribute keys of the Notifier's metrics and spans: a result and a
// reply-code class, never an address.
const (
	attrResult    = attribute.Key("alertmail.smtp.result")
	attrCodeClass = attribute.Key("alertmail.smtp.code_class")
	attrMessageID = attribute.Key("alertmail.message.id")
	attrRcpts     = attribute.Key("alertmail.recipients")
	attrRefused   = attribute.Key("alertmail.recipients.refused")
)

// The results of a Notify, as the metrics name them.
const (
	resultDelivered = "delivered" // every recipient accepted the message
	resultPartial   = "partial"   // some recipients refused, the others have it
	resultPermanent = "permanent" // alerts.ErrPermanent: refused for good
	resultTemporary = "temporary" // to be sent again later
)

// The classes of the reply that decided a Notify, the values of
// alerts.ReplyClass: "none" when no reply did (a network error, a timeout,
// an invalid message).
var codeClasses = [...]string{"2xx", "4xx", "5xx", "none"}

// telemetry is what a Notifier reports of its sends besides their errors.
type telemetry struct {
	tracer   trace.Tracer // nil: no spans
	duration metric.Float64Histogram
	refused  metric.Int64Counter
	// The attribute sets, made once: by result and code class, and by
	// code class.
	sends   map[[2]string][]metric.RecordOption
	refuses map[string][]metric.AddOption
}

// newTelemetry returns the telemetry of a Notifier configured by cfg, nil
// without providers.
func newTelemetry(cfg *Config) (*telemetry, error) {
	if cfg.MeterProvider == nil && cfg.TracerProvider == nil {
		return nil, nil
	}
	t := &telemetry{}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider == nil {
		return t, nil
	}
	meter := cfg.MeterProvider.Meter(instrumentation)
	var err1, err2 error
	t.duration, err1 = meter.Float64Histogram("alertmail.smtp.send.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of Notify (every attempt and backoff), by result and the class of the reply that decided it."),
		metric.WithExplicitBucketBoundaries(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
	t.refused, err2 = meter.Int64Counter("alertmail.smtp.recipients.refused", metric.WithUnit("{recipient}"),
		metric.WithDescription("Recipients the relay refused permanently, by reply-code class."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, &FieldError{Field: "Config.MeterProvider", Reason: err.Error(), Err: err}
	}
	t.sends = make(map[[2]string][]metric.RecordOption)
	t.refuses = make(map[string][]metric.AddOption)
	for _, class := range codeClasses {
		for _, result := range []string{resultDelivered, resultPartial, resultPermanent, resultTemporary} {
			t.sends[[2]string{result, class}] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrResult.String(result), attrCodeClass.String(class)))}
		}
		t.refuses[class] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrCodeClass.String(class)))}
	}
	return t, nil
}

// start starts the span of the send of msg within a recording span of the
// caller's (the Dispatcher's Notify span), and returns it with the time
// the send starts; the span is nil when none was started.
func (t *telemetry) start(ctx context.Context, msg *alerts.Message) (context.Context, trace.Span, time.Time) {
	if t == nil {
		return ctx, nil, time.Time{}
	}
	var span trace.Span
	if t.tracer != nil && trace.SpanFromContext(ctx).IsRecording() {
		ctx, span = t.tracer.Start(ctx, "alertmail.smtp.send", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attrMessageID.String(msg.ID), attrRcpts.Int(len(msg.To))))
	}
	return ctx, span, time.Now()
}

// sent records a Notify that began at start and returned err.
func (t *telemetry) sent(ctx context.Context, span trace.Span, start time.Time, err error) {
	if t == nil {
		return
	}
	result, class := outcome(err)
	var refused []alerts.Refusal
	if re, ok := errors.AsType[*alerts.RefusedError](err); ok {
		refused = re.Refused
	}
	if t.duration != nil {
		t.duration.Record(ctx, time.Since(start).Seconds(), t.sends[[2]string{result, class}]...)
		for _, r := range refused {
			t.refused.Add(ctx, 1, t.refuses[alerts.ReplyClass(r.Code)]...)
		}
	}
	if span == nil {
		return
	}
	span.SetAttributes(attrResult.String(result), attrCodeClass.String(class), attrRefused.Int(len(refused)))
	if err != nil && result != resultPartial {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// outcome returns the result of a Notify that returned err, and the class
// of the reply that decided it.
func outcome(err error) (result, class string) {
	if err == nil {
		return resultDelivered, "2xx"
	}
	if re, ok := errors.AsType[*alerts.RefusedError](err); ok {
		class = alerts.ReplyClass(0)
		if len(re.Refused) > 0 {
			class = alerts.ReplyClass(re.Refused[0].Code)
		}
		if re.Delivered {
			return resultPartial, class
		}
		return resultPermanent, class
	}
	class = alerts.ReplyClass(0)
	if se, ok := reply(err); ok {
		class = alerts.ReplyClass(se.Code)
	}
	if errors.Is(err, alerts.ErrPermanent) {
		return resultPermanent, class
	}
	return resultTemporary, class
}

// logSent logs a message delivered, at Debug: the Dispatcher logs each
// email sent at Info already.
func (s *settings) logSent(ctx context.Context, id string, recipients, attempts int) {
	if s.Logger != nil {
		s.Logger.LogAttrs(ctx, slog.LevelDebug, "smtpnotify: delivered", slog.String("message_id", id),
			slog.Int("recipients", recipients), slog.Int("attempt", attempts))
	}
}
