package spf_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/internal/metrictest"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// telemetryZones has a record that costs one lookup (its include).
func telemetryZones() mailauthtest.Zones {
	return mailauthtest.Zones{
		"customer.example":      {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_spf.platform.example": {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
	}
}

// TestCheckerTelemetry checks the count of checks by result, the span of
// a check within the caller's span, with its lookup count, and the Debug
// record.
func TestCheckerTelemetry(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	tr := metrictest.NewTracer(t)
	var logs bytes.Buffer
	c, err := spf.New(spf.Config{
		Resolver:       mailauthtest.NewResolver(telemetryZones()),
		MeterProvider:  mr.Provider,
		TracerProvider: tr.Provider,
		Logger:         slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err, "spf.New")

	ctx, parent := tr.Provider.Tracer("host").Start(context.Background(), "host")
	got, x := c.CheckHost(ctx, netip.MustParseAddr("192.0.2.10"), "customer.example", "a@customer.example", "h.example")
	parent.End()
	require.Equalf(t, spf.Pass, got, "CheckHost(192.0.2.10) = %s; want pass\n%s", got, x)
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		got, _ = c.CheckHost(context.Background(), netip.MustParseAddr(ip), "customer.example", "a@customer.example", "h.example")
		require.Equalf(t, spf.Fail, got, "CheckHost(%s) = %s; want fail", ip, got)
	}

	m := mr.Collect(t)
	for r, want := range map[spf.Result]int64{spf.Pass: 1, spf.Fail: 2, spf.TempError: 0} {
		n, ok := m.Sum("alertmail.spf.checks", attribute.String("alertmail.spf.result", string(r)))
		assert.Truef(t, ok, "alertmail.spf.checks{%s} missing; have\n%v", r, m)
		assert.Equalf(t, want, n, "alertmail.spf.checks{%s} = %d; want %d", r, n, want)
	}

	// One span, the check within the host's; the others had no parent.
	var checks []string
	for _, s := range tr.Spans() {
		checks = append(checks, s.Name)
	}
	assert.Equal(t, []string{"alertmail.spf.check", "host"}, checks, "spans ended")
	span, _ := tr.Span("alertmail.spf.check")
	assert.Equal(t, parent.SpanContext().SpanID(), span.Parent.SpanID(), "parent of alertmail.spf.check")
	for key, want := range map[attribute.Key]attribute.Value{
		"alertmail.spf.lookups": attribute.IntValue(1),
		"alertmail.spf.result":  attribute.StringValue("pass"),
		"alertmail.spf.domain":  attribute.StringValue("customer.example"),
	} {
		v, ok := metrictest.Attr(span, key)
		assert.Truef(t, ok && v == want, "alertmail.spf.check attribute %s = %v; want %v", key, v.Emit(), want.Emit())
	}
	assert.Contains(t, logs.String(), `level=DEBUG msg="spf: check" domain=customer.example ip=192.0.2.10 result=pass lookups=1`, "Debug record")
}

// BenchmarkCheckHostTelemetry measures BenchmarkCheckHost's plain check
// with no providers, with the SDK's meter and tracer providers (no span of
// the caller's), and inside a sampled span of the caller's, where the
// check gets a span.
func BenchmarkCheckHostTelemetry(b *testing.B) {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"plain.example": {mailauthtest.TXT("v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.0/24 -all")},
	})
	ip := netip.MustParseAddr("192.0.2.10")
	for _, bc := range []struct {
		name        string
		sdk, parent bool
	}{
		{"provider=nil", false, false},
		{"provider=sdk", true, false},
		{"provider=sdk-in-span", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := spf.Config{Resolver: res}
			if bc.sdk {
				cfg.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				cfg.TracerProvider = sdktrace.NewTracerProvider()
			}
			checker, err := spf.New(cfg)
			require.NoError(b, err, "spf.New")
			ctx := context.Background()
			if bc.parent {
				var span trace.Span
				ctx, span = sdktrace.NewTracerProvider().Tracer("host").Start(ctx, "host")
				defer span.End()
			}
			b.ReportAllocs()
			for b.Loop() {
				if got, x := checker.CheckHost(ctx, ip, "plain.example", "user@plain.example", "h.example"); got != spf.Pass {
					b.Fatalf("CheckHost = %s\n%s", got, x)
				}
			}
		})
	}
}
