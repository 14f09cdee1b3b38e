// Package alertstest provides fakes for testing code that uses package
// alerts, in the style of net/http/httptest: a [Clock] that tests advance by
// hand, a [Recorder] that keeps the messages it is given, a [FailingNotifier]
// that refuses them, and [TestLimitStore], the conformance tests every
// alerts.LimitStore implementation must pass.
//
// The fakes never sleep and never touch the network, so tests that use them
// are fast and deterministic.
package alertstest
