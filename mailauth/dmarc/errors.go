package dmarc

import "errors"

var (
	// ErrNotRecord is returned by [Parse] for a TXT record that is not a DMARC
	// record: its first tag is not "v=DMARC1". Discovery discards such records
	// (RFC 7489 section 6.6.3, RFC 9989 section 4.10).
	ErrNotRecord = errors.New("dmarc: not a DMARC record (the first tag must be v=DMARC1)")

	// ErrInvalidDomain is returned for a domain name that cannot be an author
	// domain or an authenticated identifier.
	ErrInvalidDomain = errors.New("dmarc: invalid domain name")

	// ErrNoFrom is returned by [AuthorDomain] when the From header holds no
	// address: DMARC then cannot be evaluated (RFC 9989 section 5.3.1).
	ErrNoFrom = errors.New("dmarc: From header holds no address")

	// ErrMultipleFrom is returned by [AuthorDomain] when the From header
	// holds addresses of more than one domain, which leaves DMARC no single
	// author domain to evaluate (RFC 9989 section 5.3.1); the error names
	// two of them.
	ErrMultipleFrom = errors.New("dmarc: From header holds addresses of more than one domain")
)
