package mailauth

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
)

// A DKIMRecord is the DNS record a customer publishes so that the platform
// can sign mail with the customer's own domain (RFC 6376 section 3.6.2).
// Signed so, a customer's From aligns through DKIM, which survives
// forwarding that breaks SPF. It is plain data.
type DKIMRecord struct {
	// Name is the owner name of the TXT record:
	// <selector>._domainkey.<customer domain>.
	Name string
	// Selector is the selector part of Name.
	Selector string
	// Text is the record text, "v=DKIM1; k=rsa; p=…".
	Text string
}

// String returns the record in zone-file form, the text split into quoted
// strings of at most 255 octets as a TXT record requires.
func (r DKIMRecord) String() string {
	return r.Name + ". IN TXT " + quoteTXT(r.Text)
}

// DKIMRecord returns the record a customer publishes under domain so the
// platform can sign its mail with d=domain, and false when the policy has no
// PolicyConfig.CustomerDKIM key.
func (p *Policy) DKIMRecord(domain string) (DKIMRecord, bool) {
	k := p.customerDKIM
	if k == nil {
		return DKIMRecord{}, false
	}
	text, err := dkimKeyText(k.PublicKey)
	if err != nil { // checked by NewPolicy
		return DKIMRecord{}, false
	}
	return DKIMRecord{Name: k.Selector + "._domainkey." + domain, Selector: k.Selector, Text: text}, true
}

// dkimKeyText returns the DKIM key record text of a public key: RSA keys as
// a SubjectPublicKeyInfo (RFC 6376 section 3.6.1), Ed25519 keys as the raw
// 32 octets (RFC 8463 section 4).
func dkimKeyText(pub any) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil {
			return "", errors.New("is a nil *rsa.PublicKey")
		}
		if k.N.BitLen() < 1024 {
			return "", fmt.Errorf("is a %d-bit RSA key; verifiers reject keys under 1024 bits (RFC 8301)", k.N.BitLen())
		}
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("is an Ed25519 key of %d octets", len(k))
		}
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	default:
		return "", errors.New("is neither an *rsa.PublicKey nor an ed25519.PublicKey")
	}
}

// quoteTXT renders text as the quoted character-strings of one TXT record,
// each at most 255 octets (RFC 1035 section 3.3.14). The texts this package
// renders hold no quote or backslash, which would need escaping.
func quoteTXT(text string) string {
	out := ""
	for {
		n := min(len(text), 255)
		out += `"` + text[:n] + `"`
		text = text[n:]
		if text == "" {
			return out
		}
		out += " "
	}
}
