package smtpnotify

import "io"

// A Signer adds a DKIM signature (RFC 6376) to a composed message. A
// *dkim.Signer of github.com/alertmail/alertmail/mailauth/dkim is one; a
// host that signs each domain with a key of its own writes another.
//
// Implementations must be safe for concurrent use.
type Signer interface {
	// SignAs reads a message (header and body, CRLF line endings) from r
	// and writes it to w with a DKIM-Signature header field for the
	// signing domain (d=) in front. The notifier passes the message's
	// DKIMDomain, or the domain of its From address.
	SignAs(w io.Writer, r io.Reader, domain string) error
}

// SignerFunc adapts an ordinary function to the [Signer] interface.
type SignerFunc func(w io.Writer, r io.Reader, domain string) error

// SignAs returns f(w, r, domain).
func (f SignerFunc) SignAs(w io.Writer, r io.Reader, domain string) error { return f(w, r, domain) }
