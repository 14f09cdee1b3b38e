// Package domain checks domain names and converts the ones people type,
// internationalised ones included, to the lower-case A-label form (RFC
// 5890) that DNS queries, SPF, DKIM and DMARC records and email headers
// carry. It is the SDK's one domain-syntax check.
//
// [Normalize] and [Check] take a [Syntax]: [Host], a host name of letters,
// digits and inner hyphens (RFC 1123 section 2.1, RFC 5321 section
// 4.1.2), or [DNS], a DNS name whose labels may also hold "_" (RFC 8552
// attribute labels such as _dmarc and _spf, DKIM selectors). Both limit a
// label to 63 octets and a name to 253 (RFC 1035 section 2.3.4), and both
// refuse a trailing dot: a caller that accepts an absolute name drops its
// dot first. [CheckLength] applies the length rules alone, for names whose
// labels may hold any octet (RFC 2181 section 11), as SPF macro expansion
// builds them.
//
// U-labels are accepted and converted to A-labels once, here: [Normalize]
// (through [ToASCII]) applies UTS #46 lookup processing with the profile
// golang.org/x/net/idna calls Lookup, lower-cases the name, and returns
// the A-label form, so that "Bücher.Example" and "xn--bcher-kva.example"
// are the same domain everywhere. [Check] converts nothing: it is for a
// name used as it is given, where a U-label would reach the wire.
//
// Package alerts uses it for recipient domains, smtpnotify for its EHLO,
// Message-ID and DKIM names, mailauth for every domain a user gives
// (policy configuration, a customer's From, the preflight's From, MAIL
// FROM and HELO), dmarc for author domains and authenticated identifiers,
// and spf for the length rules of the names it looks up. The errors are
// reasons without a prefix ("empty label"), or golang.org/x/net/idna's,
// for the caller to put after the input it names.
package domain
