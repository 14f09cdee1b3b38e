package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// DefaultHeaderKeys are the header fields a Signer signs when
// SignerConfig.HeaderKeys is nil: those RFC 6376 section 5.4.1 recommends
// that alert mail carries. From is listed twice so that a From field added
// after signing breaks the signature (RFC 6376 section 8.15).
var DefaultHeaderKeys = []string{
	"From", "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// MinRSABits is the smallest RSA key a Signer accepts; RFC 8301 section
// 3.2 forbids verifying with less.
const MinRSABits = 1024

// A Clock tells the time; alerts.Clock satisfies it.
//
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

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
	cfg  SignerConfig
	algo string // "rsa" or "ed25519"
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
	}
	s := &Signer{cfg: cfg}
	switch k := cfg.Key.Public().(type) {
	case ed25519.PublicKey:
		s.algo = "ed25519"
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("dkim: SignerConfig.Key: RSA key of %d bits, want at least %d", k.N.BitLen(), MinRSABits)
		}
		s.algo = "rsa"
	default:
		return nil, fmt.Errorf("dkim: SignerConfig.Key: unsupported key type %T, want Ed25519 or RSA", k)
	}
	if s.cfg.HeaderKeys == nil {
		s.cfg.HeaderKeys = DefaultHeaderKeys
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
	if err := msgdkim.Sign(w, r, s.options()); err != nil {
		return fmt.Errorf("dkim: signing for %s: %w", s.cfg.Domain, err)
	}
	return nil
}

// DNSRecord returns the name and text of the TXT record that publishes the
// signer's public key (RFC 6376 section 3.6.1; RFC 8463 section 4 for
// Ed25519, whose key is the raw 32 octets).
func (s *Signer) DNSRecord() (name, text string) {
	name = s.cfg.Selector + "._domainkey." + s.cfg.Domain
	var der []byte
	switch k := s.cfg.Key.Public().(type) {
	case ed25519.PublicKey:
		der = k
	case *rsa.PublicKey:
		der, _ = x509.MarshalPKIXPublicKey(k) // an RSA key always marshals
	}
	return name, "v=DKIM1; k=" + s.algo + "; p=" + base64.StdEncoding.EncodeToString(der)
}
