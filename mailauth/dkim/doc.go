// Package dkim verifies the DKIM signatures of received messages and signs
// outgoing platform mail, as RFC 6376 specifies, with RSA (RFC 8301) and
// Ed25519 (RFC 8463) keys.
//
// It wraps github.com/emersion/go-msgauth/dkim: a [Verifier] sends its key
// lookups through a [Resolver] (so tests and the DMARC preflight use the
// same DNS as SPF and DMARC) and reports each signature with its selector,
// an Authentication-Results value (RFC 8601) and, when it fails, a reason
// that says what changed; a [Signer] signs with the platform domain's key
// so that platform mail aligns under DMARC, and gives the DNS record to
// publish.
package dkim
