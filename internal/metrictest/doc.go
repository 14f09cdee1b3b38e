// Package metrictest reads the metrics and spans that the SDK's packages
// record, for their tests: an OpenTelemetry SDK meter provider with a
// ManualReader, and a tracer provider with an in-memory exporter, whose
// data points and spans the tests look up by name and attributes.
package metrictest
