// Package tally counts in memory, with atomic adds, what the SDK reports
// through OpenTelemetry observable instruments: counters and up-down
// counters whose series are read at each collection.
//
// It is for the paths that take less than a microsecond (a suppressed
// Dispatch, an SPF check), where a synchronous instrument's Add, some
// 150 ns with the SDK's provider and an attribute set, would cost more than
// the instrumentation budget allows: an atomic add costs a few. A series is
// made once per attribute set and kept; callers hold on to it.
package tally
