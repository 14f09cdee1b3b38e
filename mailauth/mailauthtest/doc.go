// Package mailauthtest provides DNS for the tests of mail-authentication
// code, in the style of net/http/httptest: [NewServer] starts a real DNS
// server (github.com/miekg/dns, UDP and TCP on 127.0.0.1, a free port) that
// serves [Zones] ([StartServer] outside a test), and [NewResolver] answers
// from the same zones in memory for fast unit tests and benchmarks.
//
// Both behave as an authoritative server does, the way the RFC 7208 test
// suite (openspf.org, 2014.04) expects its zone data to be served: names are
// case-insensitive; an absent name is NXDOMAIN and a present name without
// records of the asked type answers with no data; an SPF record is also
// served as TXT unless the name has TXT entries of its own; CNAMEs are
// followed as a recursive resolver would, a loop being a server failure;
// timeout entries are never answered.
//
// The helpers in this package fail the test (or panic, for the record
// constructors given a bad literal) rather than return errors: they are for
// tests only.
package mailauthtest
