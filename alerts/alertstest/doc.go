// Package alertstest provides fakes for testing code that uses package
// alerts, in the style of net/http/httptest: a [Clock] that tests advance by
// hand, a [Recorder] that keeps the messages it is given, a
// [FailingNotifier] that refuses them, a [LeaseChecker] that fails the test
// when a lease is left open, [TestLimitStore], the conformance tests
// every alerts.LimitStore implementation must pass, and the tenant ids
// such tests try ([InvalidTenants], [ValidTenants]).
//
// The fakes never sleep and never touch the network, so tests that use them
// are fast and deterministic. Helpers that take a testing.TB report through
// it and clean up with t.Cleanup.
package alertstest
