package digest_test

import (
	"bytes"
	"context"
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

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/metrictest"
)

// TestTelemetryScenario runs the scenario of issue 18 through a Dispatcher
// and a Mailer sharing one meter provider: five alerts sent (one with a
// recipient refused), three suppressed, one under the threshold, one
// duplicate, and a digest with four items; every count is exact.
func TestTelemetryScenario(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	tr := metrictest.NewTracer(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	start := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC) // 11:00 Berlin
	clock := alertstest.NewClock(start)
	settings := alerts.NewMemorySettingsStore(nil)
	sent := alertstest.NewRecorder()
	var calls atomic.Int32
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		sent.Notify(ctx, msg)
		if calls.Add(1) == 1 && slices.Contains(msg.To, "gone@acme.example") {
			return &alerts.RefusedError{Delivered: true, Refused: []alerts.Refusal{{Recipient: "gone@acme.example", Code: 550, Status: "5.1.1", Text: "no such user"}}}
		}
		return nil
	})
	m, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, Settings: settings, Clock: clock,
		MeterProvider: mr.Provider, TracerProvider: tr.Provider, Logger: log})
	require.NoError(t, err, "NewMailer")
	mustSetTenant(t, m, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: berlin}})
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Saver: settings, Notifier: notifier, Digest: m, Clock: clock,
		MeterProvider: mr.Provider, TracerProvider: tr.Provider, Logger: log})
	require.NoError(t, err, "NewDispatcher")
	ctx := context.Background()
	cur, err := d.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.Set(alerts.ActiveThreat, true), "Set")
	require.NoError(t, draft.SetRecipients([]string{"soc@acme.example", "gone@acme.example"}), "SetRecipients")
	_, err = d.Save(ctx, draft.Settings())
	require.NoError(t, err, "Save")

	dispatch := func(id string, score float64, want alerts.Outcome) {
		t.Helper()
		ev := alerts.Event{ID: id, Tenant: "acme", Category: alerts.ActiveThreat, Score: score, Asset: "laptop-7", Fingerprint: id, Summary: "detection " + id, Time: clock.Now()}
		res, err := d.Dispatch(ctx, ev)
		require.NoErrorf(t, err, "Dispatch(%s)", id)
		require.Equalf(t, want, res.Outcome, "Dispatch(%s) = %+v; want %s", id, res, want)
	}
	for i := range 5 {
		dispatch(fmt.Sprint("sent-", i), 9, alerts.Sent)
	}
	for i := range 3 {
		dispatch(fmt.Sprint("held-", i), 9, alerts.Suppressed)
	}
	dispatch("low-0", 1, alerts.BelowThreshold)
	dispatch("sent-0", 9, alerts.Duplicate) // its source delivered it twice
	// Three more items for the digest, from the host's own low-score
	// events.
	var more []alerts.Event
	for i := 1; i <= 3; i++ {
		more = append(more, alerts.Event{ID: fmt.Sprint("low-", i), Tenant: "acme", Category: alerts.ActiveThreat, Score: 1, Asset: "laptop-7", Fingerprint: fmt.Sprint("low-", i), Time: clock.Now()})
	}
	require.NoError(t, m.Digest(ctx, more), "Mailer.Digest")
	clock.Set(time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)) // 09:00 Berlin
	require.NoError(t, m.SendDue(ctx), "SendDue")
	require.Equal(t, 6, sent.Len(), "emails sent: five alerts and a digest")

	got := mr.Collect(t)
	cat := attribute.String("alertmail.category", "active-threat")
	outcome := func(o string) attribute.KeyValue { return attribute.String("alertmail.outcome", o) }
	for _, tc := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{"alertmail.alerts.outcomes", []attribute.KeyValue{cat, outcome("sent")}, 5},
		{"alertmail.alerts.outcomes", []attribute.KeyValue{cat, outcome("suppressed")}, 3},
		{"alertmail.alerts.outcomes", []attribute.KeyValue{cat, outcome("below-threshold")}, 1},
		{"alertmail.alerts.outcomes", []attribute.KeyValue{cat, outcome("duplicate")}, 1},
		{"alertmail.alerts.recipients.refused", []attribute.KeyValue{cat, attribute.String("alertmail.smtp.code_class", "5xx")}, 1},
		{"alertmail.alerts.pending", []attribute.KeyValue{cat}, 3},
		{"alertmail.alerts.carried", []attribute.KeyValue{cat}, 0},
		{"alertmail.digest.items.appended", nil, 4},
		{"alertmail.digest.items.reported", nil, 4},
		{"alertmail.digest.items.deduplicated", nil, 0},
		{"alertmail.digest.digests", []attribute.KeyValue{attribute.String("alertmail.digest.outcome", "sent")}, 1},
	} {
		n, ok := got.Sum(tc.name, tc.attrs...)
		// A synchronous counter never added to has no data point.
		assert.Truef(t, ok || tc.want == 0, "%s%v missing; have\n%v", tc.name, tc.attrs, got)
		assert.Equalf(t, tc.want, n, "%s%v = %d; want %d", tc.name, tc.attrs, n, tc.want)
	}
	for _, name := range []string{"alertmail.alerts.outcomes", "alertmail.digest.digests"} {
		total, _ := got.Total(name)
		want := map[string]int64{"alertmail.alerts.outcomes": 10, "alertmail.digest.digests": 1}[name]
		assert.Equalf(t, want, total, "%s in all = %d; want %d (no other data point)", name, total, want)
	}
	count, sum, _ := got.Histogram("alertmail.alerts.email.events", cat)
	assert.Equalf(t, []any{uint64(5), 5.0}, []any{count, sum}, "alertmail.alerts.email.events: count and sum")

	// The digest's span and log record.
	span, ok := tr.Span("alertmail.digest.send")
	require.True(t, ok, "no alertmail.digest.send span")
	digestMsg := sent.Messages()[5]
	v, _ := metrictest.Attr(span, "alertmail.message.id")
	assert.Equal(t, digestMsg.ID, v.AsString(), "alertmail.digest.send attribute alertmail.message.id")
	assert.Contains(t, logs.String(), fmt.Sprintf(`level=INFO msg="digest sent" tenant=acme day=2026-03-10 message=%s lines=4 items=4`, digestMsg.ID), "digest sent record")
	assert.Equal(t, 5, strings.Count(logs.String(), `msg="alerts: email sent"`), "email sent records")
}

// TestTelemetryDeduplicated counts repeats folded into one line, and an
// item left out because its notification was reported the day before.
func TestTelemetryDeduplicated(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	clock := alertstest.NewClock(time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	m, err := digest.NewMailer(digest.MailerConfig{Notifier: alertstest.NewRecorder(), Clock: clock, MeterProvider: mr.Provider})
	require.NoError(t, err, "NewMailer")
	mustSetTenant(t, m, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
	ctx := context.Background()
	ev := func(fp string) alerts.Event {
		return alerts.Event{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: fp, Time: clock.Now()}
	}
	require.NoError(t, m.Digest(ctx, []alerts.Event{ev("a"), ev("a"), ev("b")}), "Digest")
	clock.Set(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	require.NoError(t, m.SendDue(ctx), "SendDue, first day")
	require.NoError(t, m.Digest(ctx, []alerts.Event{ev("a")}), "Digest")
	clock.Set(time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC))
	require.NoError(t, m.SendDue(ctx), "SendDue, second day")

	got := mr.Collect(t)
	for _, tc := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{"alertmail.digest.items.appended", nil, 4},
		{"alertmail.digest.items.reported", nil, 3},
		{"alertmail.digest.items.deduplicated", nil, 2},
		{"alertmail.digest.digests", []attribute.KeyValue{attribute.String("alertmail.digest.outcome", "sent")}, 1},
		{"alertmail.digest.digests", []attribute.KeyValue{attribute.String("alertmail.digest.outcome", "empty")}, 1},
	} {
		n, _ := got.Sum(tc.name, tc.attrs...)
		assert.Equalf(t, tc.want, n, "%s%v = %d; want %d", tc.name, tc.attrs, n, tc.want)
	}
}
