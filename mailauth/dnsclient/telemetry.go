package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/miekg/dns"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/internal/tally"
)

// instrumentation is the name of the Resolver's meter and tracer.
const instrumentation = "github.com/alertmail/alertmail/mailauth/dnsclient"

// The attribute keys of the Resolver's metrics and spans: a record type
// and a result, never a name.
const (
	attrType   = attribute.Key("alertmail.dns.type")
	attrResult = attribute.Key("alertmail.dns.result")
	attrCache  = attribute.Key("alertmail.dns.cache")
	attrName   = attribute.Key("alertmail.dns.name")
)

// The results of a query sent to a server, as the metrics name them.
const (
	resultAnswer   = "answer"   // records of the type asked
	resultNXDomain = "nxdomain" // the name does not exist
	resultNoData   = "nodata"   // the name has no record of the type
	resultTimeout  = "timeout"  // no answer in time
	resultError    = "error"    // any other failure: SERVFAIL, REFUSED, a network error
)

var (
	queryTypes   = [...]uint16{dns.TypeTXT, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR, dns.TypeNone}
	queryResults = [...]string{resultAnswer, resultNXDomain, resultNoData, resultTimeout, resultError}
)

// telemetry is what a Resolver reports of its lookups besides their
// answers. Its methods do nothing on a nil telemetry.
type telemetry struct {
	log     *slog.Logger // nil: none
	tracer  trace.Tracer // nil: no spans
	queries metric.Int64Counter
	byQuery map[[2]string][]metric.AddOption // by type and result
	hits    *tally.Series                    // cache lookups that hit, counted in memory: a hit takes well under a microsecond
	misses  *tally.Series
}

// newTelemetry returns the telemetry of a Resolver configured by cfg, nil
// if it has neither providers nor logger.
func newTelemetry(cfg *Config) (*telemetry, error) {
	if cfg.MeterProvider == nil && cfg.TracerProvider == nil && cfg.Logger == nil {
		return nil, nil
	}
	t := &telemetry{log: cfg.Logger}
	if cfg.TracerProvider != nil {
		t.tracer = cfg.TracerProvider.Tracer(instrumentation)
	}
	if cfg.MeterProvider == nil {
		return t, nil
	}
	meter := cfg.MeterProvider.Meter(instrumentation)
	var err error
	t.queries, err = meter.Int64Counter("alertmail.dns.queries", metric.WithUnit("{query}"),
		metric.WithDescription("DNS queries sent to a server (each attempt), by record type and result: answer, nxdomain, nodata, timeout, error."))
	if err != nil {
		return nil, fmt.Errorf("dnsclient: Config.MeterProvider: %w", err)
	}
	t.byQuery = make(map[[2]string][]metric.AddOption)
	for _, qt := range queryTypes {
		for _, r := range queryResults {
			t.byQuery[[2]string{typeName(qt), r}] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrType.String(typeName(qt)), attrResult.String(r)))}
		}
	}
	if cfg.CacheEntries > 0 {
		tl := tally.New(meter)
		in := tl.Counter("alertmail.dns.cache.lookups", metric.WithUnit("{lookup}"),
			metric.WithDescription("Lookups answered from the cache (hit) or sent to a server (miss); the hit ratio is hit / (hit + miss)."))
		t.hits = in.Series(attribute.NewSet(attrCache.String("hit")))
		t.misses = in.Series(attribute.NewSet(attrCache.String("miss")))
		if _, err := tl.Register(); err != nil {
			return nil, fmt.Errorf("dnsclient: Config.MeterProvider: %w", err)
		}
	}
	return t, nil
}

// typeName names a record type for the metrics: one of queryTypes, "other"
// for the rest.
func typeName(qtype uint16) string {
	switch qtype {
	case dns.TypeTXT, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR:
		return dns.TypeToString[qtype]
	}
	return "other"
}

// start starts the span of a lookup of name within a recording span of
// the caller's (an SPF check's), and returns it, nil when none was
// started.
func (t *telemetry) start(ctx context.Context, name string, qtype uint16) (context.Context, trace.Span) {
	if t == nil || t.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	return t.tracer.Start(ctx, "alertmail.dns.lookup", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrName.String(name), attrType.String(typeName(qtype))))
}

// cached records a cache lookup.
func (t *telemetry) cached(hit bool) {
	if t == nil {
		return
	}
	if hit {
		t.hits.Add(1)
	} else {
		t.misses.Add(1)
	}
}

// queried records a query of qtype sent to a server: its result, and for a
// failure a Debug record.
func (t *telemetry) queried(ctx context.Context, qtype uint16, result string, srv string, err error) {
	if t == nil {
		return
	}
	if t.queries != nil {
		t.queries.Add(ctx, 1, t.byQuery[[2]string{typeName(qtype), result}]...)
	}
	if err != nil && t.log != nil {
		t.log.LogAttrs(ctx, slog.LevelDebug, "dnsclient: query failed", slog.String("type", typeName(qtype)), slog.String("server", srv),
			slog.String("result", result), slog.Any("error", err))
	}
}

// done ends span, the lookup's, which returned err.
func (t *telemetry) done(span trace.Span, cached bool, err error) {
	if span == nil {
		return
	}
	span.SetAttributes(attribute.Bool("alertmail.dns.cached", cached))
	if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
		span.SetAttributes(attrResult.String("not-found"))
	} else if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// queryResult classifies the outcome of a query: err the exchange's
// error, else the answer's rcode and whether it held records of the type.
func queryResult(err error, rcode int, found bool) string {
	switch {
	case err != nil:
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return resultTimeout
		}
		return resultError
	case rcode == dns.RcodeNameError:
		return resultNXDomain
	case rcode != dns.RcodeSuccess:
		return resultError
	case !found:
		return resultNoData
	}
	return resultAnswer
}
