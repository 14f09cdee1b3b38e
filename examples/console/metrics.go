package main

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// metrics is the console's OpenTelemetry meter provider, which the SDK's
// Dispatcher, Mailer, SMTP backend and sender policy report to, read by
// Prometheus on /metrics through the OpenTelemetry Prometheus exporter.
// The registry is the console's own: nothing global, so that two consoles
// in one process (the tests) do not collide.
type metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler // serves /metrics
}

// newMetrics returns the console's meter provider and its /metrics
// handler.
func newMetrics() (*metrics, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	return &metrics{
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)),
		handler:  promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
	}, nil
}

// Close stops the provider.
func (m *metrics) Close() error { return m.provider.Shutdown(context.Background()) }
