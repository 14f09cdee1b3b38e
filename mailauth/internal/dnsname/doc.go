// Package dnsname converts domain names between the raw octets mail
// authentication works with and the text form github.com/miekg/dns packs
// and unpacks, for the DNS client (dnsclient) and the test server
// (mailauthtest), so that both read and write names the same way.
//
// A raw name is a string of labels separated by '.', each label any octets
// but '.' (RFC 2181 section 11): SPF macro expansion can produce '%', ' ' or
// ':' (RFC 7208 section 7), and those are sent as they are. In the text form
// a backslash is escaped, and miekg/dns writes "\X" and "\DDD" escapes when
// it unpacks.
package dnsname
