// Package pyspf runs pyspf (Debian python3-spf, the RFC 7208
// implementation the openspf test suite comes with) for differential tests
// of package spf: the same zones, served by a mailauthtest.Server, checked
// by two implementations. It is internal because it ties its users to a
// Python interpreter; only this module's tests use it.
//
// Its helpers fail the test rather than return errors: they are for tests
// only.
package pyspf
