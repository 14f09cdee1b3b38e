package metrictest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A Reader is an SDK meter provider whose metrics a test collects when it
// wants, with a ManualReader.
type Reader struct {
	// Provider is the meter provider to configure the code under test with.
	Provider *sdkmetric.MeterProvider
	reader   *sdkmetric.ManualReader
}

// NewReader returns a Reader; its provider shuts down when the test ends.
func NewReader(t testing.TB) *Reader {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return &Reader{Provider: mp, reader: r}
}

// Collect returns the metrics recorded so far, by instrument name. It
// fails the test if the collection fails.
func (r *Reader) Collect(t testing.TB) Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm), "ManualReader.Collect")
	out := Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// Metrics are the collected metrics by name.
type Metrics map[string]metricdata.Metrics

// Sum returns the value of the data point of the counter (or up-down
// counter) name whose attributes are attrs exactly, and whether there is
// one.
func (ms Metrics) Sum(name string, attrs ...attribute.KeyValue) (int64, bool) {
	want := attribute.NewSet(attrs...)
	sum, ok := ms[name].Data.(metricdata.Sum[int64])
	if !ok {
		return 0, false
	}
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// Total returns the sum of every data point of the counter name, and
// whether it has any.
func (ms Metrics) Total(name string) (int64, bool) {
	sum, ok := ms[name].Data.(metricdata.Sum[int64])
	if !ok || len(sum.DataPoints) == 0 {
		return 0, false
	}
	var n int64
	for _, dp := range sum.DataPoints {
		n += dp.Value
	}
	return n, true
}

// Histogram returns the count and sum of the data point of the histogram
// name whose attributes are attrs exactly, and whether there is one.
func (ms Metrics) Histogram(name string, attrs ...attribute.KeyValue) (count uint64, sum float64, ok bool) {
	want := attribute.NewSet(attrs...)
	switch h := ms[name].Data.(type) {
	case metricdata.Histogram[int64]:
		for _, dp := range h.DataPoints {
			if dp.Attributes.Equals(&want) {
				return dp.Count, float64(dp.Sum), true
			}
		}
	case metricdata.Histogram[float64]:
		for _, dp := range h.DataPoints {
			if dp.Attributes.Equals(&want) {
				return dp.Count, dp.Sum, true
			}
		}
	}
	return 0, 0, false
}

// String lists every data point, one a line, for failure messages.
func (ms Metrics) String() string {
	var b strings.Builder
	for name, m := range ms {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				fmt.Fprintf(&b, "%s%v = %d\n", name, dp.Attributes.ToSlice(), dp.Value)
			}
		case metricdata.Histogram[int64]:
			for _, dp := range d.DataPoints {
				fmt.Fprintf(&b, "%s%v: count %d sum %d\n", name, dp.Attributes.ToSlice(), dp.Count, dp.Sum)
			}
		case metricdata.Histogram[float64]:
			for _, dp := range d.DataPoints {
				fmt.Fprintf(&b, "%s%v: count %d sum %g\n", name, dp.Attributes.ToSlice(), dp.Count, dp.Sum)
			}
		}
	}
	return b.String()
}

// A Tracer is an SDK tracer provider that samples every span and keeps the
// ended ones in memory.
type Tracer struct {
	// Provider is the tracer provider to configure the code under test with.
	Provider *sdktrace.TracerProvider
	exporter *tracetest.InMemoryExporter
}

// NewTracer returns a Tracer; its provider shuts down when the test ends.
func NewTracer(t testing.TB) *Tracer {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return &Tracer{Provider: tp, exporter: exp}
}

// Spans returns the spans ended so far, in the order they ended.
func (tr *Tracer) Spans() tracetest.SpanStubs { return tr.exporter.GetSpans() }

// Span returns the first ended span named name, and whether there is one.
func (tr *Tracer) Span(name string) (tracetest.SpanStub, bool) {
	for _, s := range tr.exporter.GetSpans() {
		if s.Name == name {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// Attr returns the value of the attribute key of span s, and whether it
// has it.
func Attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
