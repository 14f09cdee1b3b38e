// Package mailauth decides from which domain platform email is sent and
// checks, before anything is sent, that it will pass SPF (RFC 7208) and DMARC
// (RFC 7489 and its successor RFC 9989) at the customer's gateway.
//
// The sender-domain policy is built with [NewPolicy]: the platform's bulk
// domain is kept apart from the corporate domain (a configuration that sends
// platform mail from the corporate domain is rejected), and each
// application's default sender domain moves on its own date
// ([Migration]). [Policy.Sender] chooses the From of one message to a
// customer: the customer's own domain only when its SPF record authorises
// every platform sending address and the DMARC preflight says the message
// will pass; otherwise the platform domain, with the customer's address as
// Reply-To and a [Fix] that names the exact DNS change (the merged SPF record
// from [Policy.MergeSPF], counted against the 10-lookup limit; the
// allow-list entry "*@<platform domain>"; a DKIM key to publish).
// Private-cloud customers with their own gateway need no change and get no
// check. [Audit] asks the same of every customer at once before a
// migration, and writes each customer's notice. The [Decision] is plain
// values: the From and Reply-To to put on the message and the domain its
// DKIM signature must be made with.
//
// Domains may be given with U-labels ("bücher.example"): they are checked,
// compared and reported in the A-label form DNS holds, converted as package
// alerts converts recipient domains.
//
// The verdicts come from independent verifiers, never from string matching:
// package spf (check_host, with an explanation tree) and package dmarc
// (discovery, alignment and policy for both RFC generations), combined by
// [Preflight], which answers "will this message pass DMARC at the
// recipient's domain, and if not, why and what would fix it". [Authenticator]
// does the receiving side and writes an Authentication-Results header (RFC
// 8601); package dkim signs and verifies.
//
// All DNS goes through a [Resolver], whose method set is *net.Resolver's;
// package dnsclient provides one on github.com/miekg/dns (chosen servers,
// timeouts, TCP fallback, NXDOMAIN told apart from no data), and
// mailauthtest serves zones from a real DNS server on loopback for tests.
package mailauth
