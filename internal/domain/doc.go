// Package domain converts the domain names people type, internationalised
// ones included, to the lower-case A-label form (RFC 5890) that DNS queries,
// SPF, DKIM and DMARC records and email headers carry.
//
// It is the one place where the SDK applies IDNA: package mailauth uses it
// for every domain a user gives (policy configuration, a customer's From,
// the preflight's From, MAIL FROM and HELO), and package dmarc for author
// domains and authenticated identifiers, so that "Bücher.Example" and
// "xn--bcher-kva.example" are the same domain everywhere. The conversion is
// UTS #46 lookup processing with the profile golang.org/x/net/idna calls
// Lookup, the profile package alerts uses for recipient addresses.
package domain
