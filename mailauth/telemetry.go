package mailauth

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// observability is what a configuration of this package hands on to the
// SPF checker and DMARC evaluators it makes: their metrics, spans and Debug
// records (see spf.Config and dmarc.Config). The zero value is none.
type observability struct {
	meter  metric.MeterProvider
	tracer trace.TracerProvider
	log    *slog.Logger
}

// spfConfig returns the configuration of an SPF checker asking res.
func (o observability) spfConfig(res spf.Resolver) spf.Config {
	return spf.Config{Resolver: res, MeterProvider: o.meter, TracerProvider: o.tracer, Logger: o.log}
}

// dmarcConfig returns the configuration of a DMARC evaluator asking res.
func (o observability) dmarcConfig(res dmarc.Resolver, gen dmarc.Generation, rnd func(int) int) dmarc.Config {
	return dmarc.Config{Resolver: res, Generation: gen, Rand: rnd, MeterProvider: o.meter, TracerProvider: o.tracer, Logger: o.log}
}

// logDecision logs a sender decision: Info when the customer's own From
// could not be used (the fallback, with the finding codes that say why),
// Debug otherwise. It names the customer's domain, not its address.
func (p *Policy) logDecision(ctx context.Context, app App, from string, d *Decision) {
	if p.log == nil {
		return
	}
	level := slog.LevelDebug
	if d.Choice == SenderFallback {
		level = slog.LevelInfo
	}
	if !p.log.Enabled(ctx, level) {
		return
	}
	codes := make([]string, len(d.Findings))
	for i, f := range d.Findings {
		codes[i] = string(f.Code)
	}
	p.log.LogAttrs(ctx, level, "mailauth: sender chosen", slog.String("app", string(app)), slog.String("choice", string(d.Choice)),
		slog.String("customer_domain", from[strings.LastIndexByte(from, '@')+1:]), slog.String("findings", strings.Join(codes, ",")))
}
