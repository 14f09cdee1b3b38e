// Package mailauth decides from which domain platform email is sent and
// checks, before anything is sent, that it will pass SPF (RFC 7208) and DMARC
// (RFC 7489, RFC 9989) at the customer's gateway.
//
// It holds the sender-domain policy (the platform's bulk domain kept apart
// from the corporate domain, migration of each application's default sender
// domain on its own date, a customer's own From domain only where SPF and
// DMARC allow it, with the exact DNS change that would fix it when they
// don't) and the DMARC preflight. The verifiers it trusts are in the
// sub-packages spf and dmarc; dnsclient is a [Resolver] on
// github.com/miekg/dns, and mailauthtest serves zones from a real DNS server
// on loopback for tests.
package mailauth
