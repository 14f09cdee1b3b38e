package alerts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/metrictest"
	"github.com/alertmail/alertmail/internal/storetest"
)

var (
	activeThreat = attribute.String("alertmail.category", string(alerts.ActiveThreat))
	outcome      = func(o alerts.Outcome) attribute.KeyValue { return attribute.String("alertmail.outcome", string(o)) }
)

// refuseFirst returns a notifier that hands every email to next and
// reports gone@example.com refused on the first one only.
func refuseFirst(next alerts.Notifier) alerts.Notifier {
	var calls atomic.Int32
	return alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		if err := next.Notify(ctx, msg); err != nil {
			return err
		}
		if calls.Add(1) == 1 && slices.Contains(msg.To, "gone@example.com") {
			return &alerts.RefusedError{Delivered: true, Refused: []alerts.Refusal{{Recipient: "gone@example.com", Code: 550, Status: "5.1.1", Text: "no such user"}}}
		}
		return nil
	})
}

// TestDispatcherMetrics runs five sends, three suppressions, one event
// under the threshold and a flush after the cooling period, and checks
// every count.
func TestDispatcherMetrics(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	var logs bytes.Buffer
	e := newEnv(t, func(cfg *alerts.DispatcherConfig) {
		cfg.MeterProvider = mr.Provider
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		cfg.Notifier = refuseFirst(cfg.Notifier)
	})
	e.save(t, tenant, true, "soc@example.com", "gone@example.com")

	for i := range 5 {
		e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Sent)
	}
	for i := range 3 {
		e.dispatch(t, event(fmt.Sprint("held", i)), alerts.Suppressed)
	}
	low := event("low")
	low.Score = 1
	e.dispatch(t, low, alerts.BelowThreshold)

	m := mr.Collect(t)
	for _, tc := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{"alertmail.alerts.outcomes", []attribute.KeyValue{activeThreat, outcome(alerts.Sent)}, 5},
		{"alertmail.alerts.outcomes", []attribute.KeyValue{activeThreat, outcome(alerts.Suppressed)}, 3},
		{"alertmail.alerts.outcomes", []attribute.KeyValue{activeThreat, outcome(alerts.BelowThreshold)}, 1},
		{"alertmail.alerts.recipients.refused", []attribute.KeyValue{activeThreat, attribute.String("alertmail.smtp.code_class", "5xx")}, 1},
		{"alertmail.alerts.carried", []attribute.KeyValue{activeThreat}, 0},
		{"alertmail.alerts.pending", []attribute.KeyValue{activeThreat}, 3},
		{"alertmail.alerts.undelivered", []attribute.KeyValue{activeThreat}, 0},
	} {
		got, ok := m.Sum(tc.name, tc.attrs...)
		assert.Truef(t, ok, "%s%v missing; have\n%v", tc.name, tc.attrs, m)
		assert.Equalf(t, tc.want, got, "%s%v = %d; want %d", tc.name, tc.attrs, got, tc.want)
	}
	total, _ := m.Total("alertmail.alerts.outcomes")
	assert.Equalf(t, int64(9), total, "alertmail.alerts.outcomes in all = %d; want 9 (no other outcome)", total)
	count, sum, _ := m.Histogram("alertmail.alerts.email.events", activeThreat)
	assert.Equalf(t, []any{uint64(5), 5.0}, []any{count, sum}, "alertmail.alerts.email.events count, sum; want 5 emails of 1 event")
	count, _, ok := m.Histogram("alertmail.alerts.limiter.duration", attribute.String("alertmail.store", "alertstest.LeaseChecker"))
	assert.Truef(t, ok && count >= 1, "alertmail.alerts.limiter.duration: count %d; want at least 1 timed decision", count)

	// The cooling period over, a Flush sends the three held back.
	e.clock.Advance(4 * time.Hour)
	res := e.flush(t, alerts.Sent)
	m = mr.Collect(t)
	for _, tc := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{"alertmail.alerts.outcomes", []attribute.KeyValue{activeThreat, outcome(alerts.Sent)}, 6},
		{"alertmail.alerts.carried", []attribute.KeyValue{activeThreat}, 3},
		{"alertmail.alerts.pending", []attribute.KeyValue{activeThreat}, 0},
	} {
		got, _ := m.Sum(tc.name, tc.attrs...)
		assert.Equalf(t, tc.want, got, "after Flush: %s%v = %d; want %d", tc.name, tc.attrs, got, tc.want)
	}
	count, sum, _ = m.Histogram("alertmail.alerts.email.events", activeThreat)
	assert.Equalf(t, []any{uint64(6), 8.0}, []any{count, sum}, "after Flush: alertmail.alerts.email.events count, sum")

	// One Info record per email sent, with its key, Message-ID and events;
	// never an address at Info.
	var sent []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		require.NoErrorf(t, json.Unmarshal([]byte(line), &rec), "log line %q", line)
		if rec["msg"] == "alerts: email sent" {
			sent = append(sent, rec)
		}
		if rec["level"] == "INFO" {
			assert.NotContainsf(t, line, "@example.com", "Info record %s names an address", line)
		}
	}
	require.Lenf(t, sent, 6, "email sent records in\n%s", logs.String())
	last := sent[5]
	assert.Equal(t, map[string]any{"key": "acme/active-threat", "message": res.MessageID, "events": 3.0, "carried": 3.0},
		map[string]any{"key": last["key"], "message": last["message"], "events": last["events"], "carried": last["carried"]}, "last email sent record")
}

// TestDispatcherUndeliveredGauge follows events refused for good to the
// undelivered list, and back to pending with Requeue.
func TestDispatcherUndeliveredGauge(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	var refuse atomic.Bool
	refuse.Store(true)
	e := newEnv(t, nil)
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: e.settings, Store: e.store, Clock: e.clock, Renderer: countRenderer, MeterProvider: mr.Provider,
		Notifier: alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			if refuse.Load() {
				return alerts.Permanent(errors.New("554 no"))
			}
			return nil
		}),
	})
	require.NoError(t, err, "NewDispatcher")
	ctx := context.Background()
	res, err := d.Dispatch(ctx, event("bounced"))
	require.NoError(t, err, "Dispatch")
	require.Equal(t, alerts.Undeliverable, res.Outcome, "Dispatch outcome")

	gauges := func(when string, pending, undelivered int64) {
		t.Helper()
		m := mr.Collect(t)
		p, _ := m.Sum("alertmail.alerts.pending", activeThreat)
		u, _ := m.Sum("alertmail.alerts.undelivered", activeThreat)
		assert.Equalf(t, []int64{pending, undelivered}, []int64{p, u}, "%s: pending, undelivered", when)
	}
	gauges("after Undeliverable", 0, 1)
	evs, err := d.Undelivered(ctx, tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Undelivered")
	require.Len(t, evs, 1, "Undelivered")
	gauges("after Undelivered", 0, 1)
	n, err := d.Requeue(ctx, tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Requeue")
	require.Equal(t, 1, n, "Requeue")
	gauges("after Requeue", 1, 0)
	refuse.Store(false)
	res, err = d.Flush(ctx, tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Flush")
	require.Equal(t, alerts.Sent, res.Outcome, "Flush outcome")
	gauges("after Flush", 0, 0)
	m := mr.Collect(t)
	got, _ := m.Sum("alertmail.alerts.outcomes", activeThreat, outcome(alerts.Undeliverable))
	assert.Equal(t, int64(1), got, "outcomes{undeliverable}")
}

// TestDispatcherSpans checks the span tree: the host's span, the
// Dispatch's in it, and the Notify's in that one, with the Message-ID;
// without a span of the host's, only Notify has one.
func TestDispatcherSpans(t *testing.T) {
	t.Parallel()
	tr := metrictest.NewTracer(t)
	e := newEnv(t, func(cfg *alerts.DispatcherConfig) { cfg.TracerProvider = tr.Provider })

	ctx, host := tr.Provider.Tracer("host").Start(context.Background(), "host request")
	res, err := e.d.Dispatch(ctx, event("e1"))
	host.End()
	require.NoError(t, err, "Dispatch")
	require.Equal(t, alerts.Sent, res.Outcome, "Dispatch outcome")

	dispatch, ok := tr.Span("alertmail.dispatch")
	require.True(t, ok, "no alertmail.dispatch span")
	notify, ok := tr.Span("alertmail.notify")
	require.True(t, ok, "no alertmail.notify span")
	assert.Equal(t, host.SpanContext().SpanID(), dispatch.Parent.SpanID(), "parent of alertmail.dispatch: the host's span")
	assert.Equal(t, dispatch.SpanContext.SpanID(), notify.Parent.SpanID(), "parent of alertmail.notify: alertmail.dispatch")
	assert.Equal(t, host.SpanContext().TraceID(), notify.SpanContext.TraceID(), "trace of alertmail.notify")
	for _, s := range []struct {
		name string
		key  attribute.Key
		want attribute.Value
	}{
		{"alertmail.notify", "alertmail.message.id", attribute.StringValue(res.MessageID)},
		{"alertmail.notify", "alertmail.events", attribute.IntValue(1)},
		{"alertmail.notify", "alertmail.category", attribute.StringValue(string(alerts.ActiveThreat))},
		{"alertmail.dispatch", "alertmail.message.id", attribute.StringValue(res.MessageID)},
		{"alertmail.dispatch", "alertmail.outcome", attribute.StringValue(string(alerts.Sent))},
	} {
		span, _ := tr.Span(s.name)
		got, ok := metrictest.Attr(span, s.key)
		assert.Truef(t, ok && got == s.want, "%s attribute %s = %v; want %v", s.name, s.key, got.Emit(), s.want.Emit())
	}

	// No span of the host's: the Dispatch has none, its Notify is a root.
	before := len(tr.Spans())
	res, err = e.d.Dispatch(context.Background(), event("e2"))
	require.NoError(t, err, "Dispatch")
	require.Equal(t, alerts.Sent, res.Outcome, "Dispatch outcome")
	spans := tr.Spans()[before:]
	require.Lenf(t, spans, 1, "spans of a Dispatch without a host span: %v", spans)
	assert.Equal(t, "alertmail.notify", spans[0].Name, "the one span")
	assert.False(t, spans[0].Parent.IsValid(), "alertmail.notify without a host span is a root span")
}

// BenchmarkDispatchTelemetry measures the suppressed path of Dispatch
// (BenchmarkDispatch/id's) with no providers, with the SDK's meter and
// tracer providers (no span of the host's, the path a storm takes), and
// inside a sampled span of the host's, where the Dispatch gets a span.
func BenchmarkDispatchTelemetry(b *testing.B) {
	for _, bc := range []struct {
		name        string
		sdk, parent bool
	}{
		{"provider=nil", false, false},
		{"provider=sdk", true, false},
		{"provider=sdk-in-span", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			store := &alerts.MemoryLimitStore{DedupWindow: time.Millisecond}
			e := newEnv(b, func(cfg *alerts.DispatcherConfig) {
				cfg.Store = store
				if bc.sdk {
					cfg.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
					cfg.TracerProvider = sdktrace.NewTracerProvider()
				}
			})
			ctx := context.Background()
			if bc.parent {
				var span trace.Span
				ctx, span = sdktrace.NewTracerProvider().Tracer("host").Start(ctx, "host")
				defer span.End()
			}
			storetest.Storm(ctx, b, e.d, e.clock, time.Millisecond, true)
		})
	}
}
