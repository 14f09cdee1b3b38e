package smtpnotify_test

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/alertmail/alertmail/alerts/smtpnotify"
	"github.com/alertmail/alertmail/internal/metrictest"
)

// TestNotifyTelemetry sends through a relay that accepts, refuses a
// recipient, refuses the data for good, then defers it, and checks the
// sends by result and reply-code class, the refused recipients, and the
// span of a send within the caller's span.
func TestNotifyTelemetry(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	tr := metrictest.NewTracer(t)
	ts := startServer(t, serverOptions{
		rcpt: func(n int, to string, _ int) error {
			if n == 2 && to == ciso {
				return noSuchUser
			}
			return nil
		},
		data: func(n int, _ []byte) error {
			switch n {
			case 3:
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
			case 4:
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}
			return nil
		},
	})
	cfg := config(ts, smtpnotify.Plaintext)
	cfg.MeterProvider, cfg.TracerProvider = mr.Provider, tr.Provider
	n := mustNew(t, cfg)

	ctx, parent := tr.Provider.Tracer("host").Start(context.Background(), "host")
	msg := testMessage(t)
	require.NoError(t, n.Notify(ctx, msg), "first Notify")
	parent.End()
	assert.Error(t, n.Notify(context.Background(), msg), "second Notify: ciso refused")
	assert.ErrorContains(t, n.Notify(context.Background(), msg), "554", "third Notify: data refused")
	assert.ErrorContains(t, n.Notify(context.Background(), msg), "451", "fourth Notify: data deferred")

	m := mr.Collect(t)
	for _, tc := range []struct{ result, class string }{
		{"delivered", "2xx"}, {"partial", "5xx"}, {"permanent", "5xx"}, {"temporary", "4xx"},
	} {
		count, sum, ok := m.Histogram("alertmail.smtp.send.duration",
			attribute.String("alertmail.smtp.result", tc.result), attribute.String("alertmail.smtp.code_class", tc.class))
		assert.Truef(t, ok && count == 1 && sum > 0, "alertmail.smtp.send.duration{%s, %s}: count %d, sum %g; want one send\n%v", tc.result, tc.class, count, sum, m)
	}
	refused, _ := m.Sum("alertmail.smtp.recipients.refused", attribute.String("alertmail.smtp.code_class", "5xx"))
	assert.Equal(t, int64(1), refused, "alertmail.smtp.recipients.refused{5xx}")

	spans := tr.Spans()
	require.Lenf(t, spans, 2, "spans: %v (only the first Notify had a parent)", spans)
	send := spans[0]
	assert.Equal(t, "alertmail.smtp.send", send.Name, "first span ended")
	assert.Equal(t, parent.SpanContext().SpanID(), send.Parent.SpanID(), "parent of alertmail.smtp.send")
	for key, want := range map[attribute.Key]attribute.Value{
		"alertmail.message.id":      attribute.StringValue(msg.ID),
		"alertmail.smtp.result":     attribute.StringValue("delivered"),
		"alertmail.smtp.code_class": attribute.StringValue("2xx"),
		"alertmail.recipients":      attribute.IntValue(2),
	} {
		v, ok := metrictest.Attr(send, key)
		assert.Truef(t, ok && v == want, "alertmail.smtp.send attribute %s = %v; want %v", key, v.Emit(), want.Emit())
	}
}
