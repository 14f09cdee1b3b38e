package mailauth

import (
	"errors"
	"strings"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/dkim"
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

// DKIMRecord returns the record a customer publishes under customerDomain so
// the platform can sign its mail with d=customerDomain, and false when the
// policy has no PolicyConfig.CustomerDKIM key.
//
// The domain may have U-labels; the record's name has its A-label form.
func (p *Policy) DKIMRecord(customerDomain string) (DKIMRecord, bool) {
	k := p.customerDKIM
	if k == nil {
		return DKIMRecord{}, false
	}
	if a, err := normalizeDomain(customerDomain, domain.Host); err == nil {
		customerDomain = a
	}
	text, err := dkimKeyText(k.PublicKey)
	if err != nil { // checked by NewPolicy
		return DKIMRecord{}, false
	}
	return DKIMRecord{Name: k.Selector + "._domainkey." + customerDomain, Selector: k.Selector, Text: text}, true
}

// dkimKeyText returns the DKIM key record text of a public key, or why
// the key cannot be published, as a PolicyError reason.
func dkimKeyText(pub any) (string, error) {
	text, err := dkim.KeyRecord(pub)
	if err != nil {
		return "", errors.New(strings.TrimPrefix(err.Error(), "dkim: "))
	}
	return text, nil
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
