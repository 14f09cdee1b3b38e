// Package spf verifies the Sender Policy Framework of RFC 7208: whether a
// host at some IP address may send mail for a domain.
//
// [Checker.CheckHost] is the check_host() function of RFC 7208 section 4,
// complete: every mechanism (all, include, a, mx, ptr, ip4, ip6, exists)
// with CIDR lengths, the redirect and exp modifiers, the macro language of
// section 7, the limits of section 4.6.4 (10 DNS lookups, 2 void lookups, 10
// MX and 10 PTR names), record selection, and every result. [Checker.CheckMailFrom]
// and [Checker.CheckHELO] apply it to the two identities of section 2.
// Beside the verdict an [Explanation] says which term matched, the tree of
// includes and redirects with the DNS lookups each cost, the expanded exp=
// text, and, for permerror and temperror, the exact reason and term.
//
// [Parse] is the record parser, usable alone: it reports every syntax error
// with its position and returns terms that can be inspected, changed and
// printed back as a record.
//
// DNS goes through a [Resolver], the subset of *net.Resolver the checks need,
// defined here so that this package depends on nothing else of the module;
// dnsclient.Resolver (on github.com/miekg/dns) is the intended one.
package spf
