package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// DefaultHeaderKeys are the header fields a Signer signs when
// SignerConfig.HeaderKeys is nil: those RFC 6376 section 5.4.1 recommends
// that alert mail carries. From is listed twice so that a From field added
// after signing breaks the signature (RFC 6376 section 8.15). NewSigner
// copies it: changing it affects only the Signers made afterwards.
var DefaultHeaderKeys = []string{
	"From", "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// MinRSABits is the smallest RSA key a Signer accepts; RFC 8301 section
// 3.2 forbids verifying with less.
const MinRSABits = 1024

// A Clock tells the time; any type with this method fits.
//
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a [Clock]; ClockFunc(time.Now) is the
// system clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// SignerConfig configures a [Signer]. Domain, Selector and Key are
// required.
//
// The zero value is not enough: Domain, Selector and Key are required; the
// other fields have working zero values. NewSigner copies it.
type SignerConfig struct {
	// Domain is the signing domain (d=), the platform domain whose DMARC
	// alignment the signature gives.
	Domain string
	// Selector is the selector (s=); the key is published at
	// <Selector>._domainkey.<Domain>.
	Selector string
	// Key is an ed25519.PrivateKey or an *rsa.PrivateKey of at least
	// MinRSABits bits (2048 recommended).
	Key crypto.Signer
	// HeaderKeys are the header fields to sign; nil means DefaultHeaderKeys.
	// It must include From.
	HeaderKeys []string
	// Expiration, when positive, sets the x= tag that long after signing.
	Expiration time.Duration
	// Clock gives the signing time for x=; nil means the system clock.
	Clock Clock
}

// A Signer DKIM-signs messages with relaxed/relaxed canonicalization and
// SHA-256. It is safe for concurrent use.
//
// Create one with NewSigner; the zero value is not usable.
type Signer struct {
	cfg SignerConfig
}

// NewSigner returns a Signer for cfg, or an error naming the invalid field.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	switch {
	case cfg.Domain == "":
		return nil, fmt.Errorf("dkim: SignerConfig.Domain is empty")
	case cfg.Selector == "":
		return nil, fmt.Errorf("dkim: SignerConfig.Selector is empty")
	case cfg.Key == nil:
		return nil, fmt.Errorf("dkim: SignerConfig.Key is nil")
	case cfg.Expiration < 0:
		return nil, fmt.Errorf("dkim: SignerConfig.Expiration %v is negative", cfg.Expiration)
	case cfg.HeaderKeys != nil && !slices.ContainsFunc(cfg.HeaderKeys, func(k string) bool { return strings.EqualFold(k, "From") }):
		// RFC 6376 section 5.4: From must be signed.
		return nil, fmt.Errorf("dkim: SignerConfig.HeaderKeys %q does not include From", cfg.HeaderKeys)
	}
	// A key that cannot be published cannot be verified either.
	if _, err := KeyRecord(cfg.Key.Public()); err != nil {
		return nil, fmt.Errorf("dkim: SignerConfig.Key: %w", trimPrefix(err))
	}
	s := &Signer{cfg: cfg}
	// Copied, so that neither the caller's slice nor DefaultHeaderKeys
	// changes a Signer in use.
	s.cfg.HeaderKeys = slices.Clone(cfg.HeaderKeys)
	if s.cfg.HeaderKeys == nil {
		s.cfg.HeaderKeys = slices.Clone(DefaultHeaderKeys)
	}
	// Fail now, not at the first message, on the rest of the options.
	if _, err := msgdkim.NewSigner(s.options()); err != nil {
		return nil, fmt.Errorf("dkim: SignerConfig: %w", trimPrefix(err))
	}
	return s, nil
}

func (s *Signer) options() *msgdkim.SignOptions {
	o := &msgdkim.SignOptions{
		Domain:                 s.cfg.Domain,
		Selector:               s.cfg.Selector,
		Signer:                 s.cfg.Key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		HeaderKeys:             s.cfg.HeaderKeys,
	}
	if s.cfg.Expiration > 0 {
		now := time.Now()
		if s.cfg.Clock != nil {
			now = s.cfg.Clock.Now()
		}
		o.Expiration = now.Add(s.cfg.Expiration)
	}
	return o
}

// Sign reads a message (header and body, CRLF line endings) from r and
// writes it to w with a DKIM-Signature header field in front.
func (s *Signer) Sign(w io.Writer, r io.Reader) error {
	return s.SignAs(w, r, s.cfg.Domain)
}

// SignAs is Sign with domain as the signing domain (d=), such as the
// domain of the message's From: the key must be published under
// <Selector>._domainkey.<domain> too. It is the signer alerts/smtpnotify
// uses.
func (s *Signer) SignAs(w io.Writer, r io.Reader, domain string) error {
	// d= goes into the header as it is.
	if domain == "" || strings.ContainsFunc(domain, func(c rune) bool { return c <= ' ' || c == ';' || c == 0x7f }) {
		return fmt.Errorf("dkim: signing domain %q is not a domain name", domain)
	}
	o := s.options()
	o.Domain = domain
	if err := msgdkim.Sign(w, r, o); err != nil {
		return fmt.Errorf("dkim: signing for %s: %w", domain, err)
	}
	return nil
}

// Format writes the signer's domain and selector, never its key, whatever
// the verb.
func (s *Signer) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dkim.Signer{Domain:%s Selector:%s Key:[redacted]}", s.cfg.Domain, s.cfg.Selector)
}

// LogValue returns the signer's domain and selector, never its key, for
// log/slog.
func (s *Signer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("domain", s.cfg.Domain), slog.String("selector", s.cfg.Selector))
}

// DNSRecord returns the name and text of the TXT record that publishes the
// signer's public key (see [KeyRecord]).
func (s *Signer) DNSRecord() (name, text string) {
	text, _ = KeyRecord(s.cfg.Key.Public()) // NewSigner accepted the key
	return s.cfg.Selector + "._domainkey." + s.cfg.Domain, text
}

// KeyRecord returns the text of the DKIM key record that publishes pub, an
// *rsa.PublicKey of at least MinRSABits bits or an ed25519.PublicKey:
// "v=DKIM1; k=rsa; p=" and the SubjectPublicKeyInfo for RSA (RFC 6376
// section 3.6.1), "v=DKIM1; k=ed25519; p=" and the raw 32 octets for
// Ed25519 (RFC 8463 section 4), base64-encoded. The error names what is
// wrong with the key.
func KeyRecord(pub crypto.PublicKey) (string, error) {
	var algo string
	var raw []byte
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", errors.New("dkim: nil RSA public key")
		}
		if k.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("dkim: RSA key of %d bits; verifiers reject keys under %d bits (RFC 8301)", k.N.BitLen(), MinRSABits)
		}
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", fmt.Errorf("dkim: RSA key: %w", err)
		}
		algo, raw = "rsa", der
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("dkim: Ed25519 key of %d octets; want %d", len(k), ed25519.PublicKeySize)
		}
		algo, raw = "ed25519", k
	default:
		return "", fmt.Errorf("dkim: unsupported key type %T; want *rsa.PublicKey or ed25519.PublicKey", pub)
	}
	return "v=DKIM1; k=" + algo + "; p=" + base64.StdEncoding.EncodeToString(raw), nil
}
