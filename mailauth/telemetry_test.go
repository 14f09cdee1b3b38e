package mailauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/alertmail/alertmail/internal/metrictest"
	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// TestPolicyTelemetry decides two senders within a span of the host's,
// with every provider set, and checks the span tree (SPF checks with
// their lookup counts and DNS lookups, DMARC evaluations), that the
// counts match the spans, and the log record of the fallback.
func TestPolicyTelemetry(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	tr := metrictest.NewTracer(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil)) // Info and above
	// The scenarios' DNS server, asked through a resolver that reports too.
	srv := mailauthtest.NewServer(t, customerZones())
	rcfg := srv.Config()
	rcfg.MeterProvider, rcfg.TracerProvider, rcfg.CacheEntries = mr.Provider, tr.Provider, 100
	res, err := dnsclient.New(rcfg)
	require.NoError(t, err, "dnsclient.New")
	p, _ := scenarioPolicy(t, func(cfg *mailauth.PolicyConfig) {
		cfg.MeterProvider, cfg.TracerProvider, cfg.Logger, cfg.Resolver = mr.Provider, tr.Provider, log, res
	})

	ctx, host := tr.Provider.Tracer("host").Start(context.Background(), "host")
	good, err := p.Sender(ctx, mailauth.AlertEmails, mailauth.Customer{From: "alerts@good.example"})
	require.NoError(t, err, "Sender(good.example)")
	trap, err := p.Sender(ctx, mailauth.AlertEmails, mailauth.Customer{From: "alerts@trap.example"})
	require.NoError(t, err, "Sender(trap.example)")
	host.End()
	require.Equal(t, mailauth.SenderCustomer, good.Choice, "good.example: the customer's From")
	require.Equal(t, mailauth.SenderFallback, trap.Choice, "trap.example: the fallback")

	spans := map[string]int{}
	for _, s := range tr.Spans() {
		spans[s.Name]++
		switch s.Name {
		case "alertmail.spf.check", "alertmail.dmarc.evaluate":
			assert.Equalf(t, host.SpanContext().TraceID(), s.SpanContext.TraceID(), "%s in the host's trace", s.Name)
		}
	}
	require.Positivef(t, spans["alertmail.spf.check"], "spans: %v", spans)
	require.Positivef(t, spans["alertmail.dmarc.evaluate"], "spans: %v", spans)
	require.Positivef(t, spans["alertmail.dns.lookup"], "spans: %v", spans)

	// good.example's record: mx (one lookup) and the platform's include
	// (two).
	var lookups []int64
	for _, s := range tr.Spans() {
		if s.Name != "alertmail.spf.check" {
			continue
		}
		if d, _ := metrictest.Attr(s, "alertmail.spf.domain"); d.AsString() == "good.example" {
			n, ok := metrictest.Attr(s, "alertmail.spf.lookups")
			require.True(t, ok, "alertmail.spf.check of good.example has no lookup count")
			lookups = append(lookups, n.AsInt64())
		}
	}
	require.NotEmpty(t, lookups, "no alertmail.spf.check of good.example")
	for _, n := range lookups {
		assert.Equalf(t, int64(3), n, "lookups of good.example's SPF checks: %v; want 3 each", lookups)
	}

	m := mr.Collect(t)
	checks, _ := m.Total("alertmail.spf.checks")
	assert.Equalf(t, int64(spans["alertmail.spf.check"]), checks, "alertmail.spf.checks = %d; want one per span", checks)
	evals, _ := m.Total("alertmail.dmarc.evaluations")
	assert.Equalf(t, int64(spans["alertmail.dmarc.evaluate"]), evals, "alertmail.dmarc.evaluations = %d; want one per span", evals)
	queries, _ := m.Total("alertmail.dns.queries")
	hits, _ := m.Sum("alertmail.dns.cache.lookups", attribute.String("alertmail.dns.cache", "hit"))
	misses, _ := m.Sum("alertmail.dns.cache.lookups", attribute.String("alertmail.dns.cache", "miss"))
	assert.Equalf(t, misses, queries, "alertmail.dns.queries = %d; want one per cache miss (%d), no retry", queries, misses)
	assert.Equalf(t, int64(spans["alertmail.dns.lookup"]), hits+misses, "cache lookups %d+%d; want one per lookup span", hits, misses)
	assert.Positive(t, hits, "cache hits: the two decisions share the platform's records")

	assert.Contains(t, logs.String(), `level=INFO msg="mailauth: sender chosen" app=alert-emails choice=fallback customer_domain=trap.example findings=`, "fallback record")
	assert.Regexp(t, `customer_domain=trap.example findings=\S*spf-not-authorised`, logs.String(), "the fallback's reasons")
	assert.NotContains(t, logs.String(), "good.example", "a sender of the customer's own is logged at Debug only")
	for line := range strings.Lines(logs.String()) {
		assert.NotContainsf(t, line, "@", "log record %q names an address", line)
	}
}
