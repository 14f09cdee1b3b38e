// Package dnsclient is a DNS stub resolver on github.com/miekg/dns for the
// SPF, DKIM and DMARC verifiers of package mailauth.
//
// Its [Resolver] has the method set of [*net.Resolver] (and so satisfies
// mailauth.Resolver and spf.Resolver) and adds what mail authentication
// needs and the standard resolver lacks: configurable servers, a timeout per
// query, a retry over TCP when a UDP answer is truncated (RFC 1035 section
// 4.2.1, RFC 7766), names sent exactly as given (any legal label octet, such
// as '%', ' ' or ':' produced by SPF macro expansion, RFC 7208 section 7), a
// name that does not exist (NXDOMAIN) told apart from a name without records
// of the asked type (the SPF void-lookup limit of RFC 7208 section 4.6.4
// counts both, a DMARC tree walk needs the difference), and an optional cache
// that honours the records' TTLs.
//
// Errors are [*net.DNSError] values with IsNotFound and IsTimeout set as the
// standard resolver sets them; errors.Is tells [ErrNXDomain] from
// [ErrNoData], and so does the method NXDomain() bool of the error they
// wrap, for packages that do not import this one.
package dnsclient
