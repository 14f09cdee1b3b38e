package dnsclient_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/alertmail/alertmail/internal/metrictest"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// TestResolverTelemetry counts the queries by type and result, a timeout
// among them, and the cache's hits and misses.
func TestResolverTelemetry(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	var logs bytes.Buffer
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"spf.example":  {mailauthtest.TXT("v=spf1 -all"), mailauthtest.A("192.0.2.1")},
		"slow.example": {mailauthtest.Timeout()},
	})
	cfg := srv.Config()
	cfg.Timeout, cfg.Attempts, cfg.CacheEntries = 100*time.Millisecond, 1, 10
	cfg.MeterProvider = mr.Provider
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := dnsclient.New(cfg)
	require.NoError(t, err, "dnsclient.New")
	ctx := context.Background()
	for range 3 {
		_, err := r.LookupTXT(ctx, "spf.example")
		require.NoError(t, err, "LookupTXT(spf.example)")
	}
	_, err = r.LookupTXT(ctx, "missing.example")
	assert.True(t, dnsclient.IsNXDomain(err), "LookupTXT(missing.example) = %v; want NXDOMAIN", err)
	_, err = r.LookupMX(ctx, "spf.example")
	assert.True(t, dnsclient.IsNoData(err), "LookupMX(spf.example) = %v; want no data", err)
	_, err = r.LookupTXT(ctx, "slow.example")
	assert.Error(t, err, "LookupTXT(slow.example)")

	m := mr.Collect(t)
	q := func(typ, result string) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("alertmail.dns.type", typ), attribute.String("alertmail.dns.result", result)}
	}
	for _, tc := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{"alertmail.dns.queries", q("TXT", "answer"), 1},
		{"alertmail.dns.queries", q("TXT", "nxdomain"), 1},
		{"alertmail.dns.queries", q("MX", "nodata"), 1},
		{"alertmail.dns.queries", q("TXT", "timeout"), 1},
		{"alertmail.dns.cache.lookups", []attribute.KeyValue{attribute.String("alertmail.dns.cache", "hit")}, 2},
		{"alertmail.dns.cache.lookups", []attribute.KeyValue{attribute.String("alertmail.dns.cache", "miss")}, 4},
	} {
		n, _ := m.Sum(tc.name, tc.attrs...)
		assert.Equalf(t, tc.want, n, "%s%v = %d; want %d\n%v", tc.name, tc.attrs, n, tc.want, m)
	}
	total, _ := m.Total("alertmail.dns.queries")
	assert.Equal(t, int64(4), total, "alertmail.dns.queries in all")
	assert.Contains(t, logs.String(), `level=DEBUG msg="dnsclient: query failed" type=TXT`, "Debug record of the timeout")
}
