package dmarc

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/alertmail/alertmail/internal/domain"
)

// AuthorDomain returns the author domain of a message: the domain of the
// addresses in its From header field value (RFC 7489 section 3.1, RFC 9989
// section 5.3.1), lower-cased and without a trailing dot. It returns
// [ErrNoFrom] when the value holds no address and [ErrMultipleFrom] when its
// addresses have different domains, since DMARC cannot then be evaluated.
func AuthorDomain(from string) (string, error) {
	addrs, err := mail.ParseAddressList(from)
	if err != nil {
		if strings.TrimSpace(from) == "" {
			return "", ErrNoFrom
		}
		return "", fmt.Errorf("dmarc: From header %q: %w", from, err)
	}
	domain := ""
	for _, a := range addrs {
		at := strings.LastIndexByte(a.Address, '@')
		if at < 0 {
			return "", fmt.Errorf("%w: From address %q has no domain", ErrInvalidDomain, a.Address)
		}
		d, err := normalizeDomain(a.Address[at+1:])
		if err != nil {
			return "", err
		}
		if domain != "" && d != domain {
			return "", fmt.Errorf("%w: %s and %s", ErrMultipleFrom, domain, d)
		}
		domain = d
	}
	if domain == "" {
		return "", ErrNoFrom
	}
	return domain, nil
}

// normalizeDomain drops a trailing dot, converts U-labels to A-labels
// (RFC 9989 section 5.3.1 asks receivers to convert internationalized
// names), lower-cases the name and checks that it is a syntactically valid
// DNS name ("_" allowed as many real names use it), so that it can be put
// in a DNS query and compared.
func normalizeDomain(d string) (string, error) {
	a, err := domain.Normalize(strings.TrimSuffix(d, "."), domain.DNS)
	if err != nil {
		return "", fmt.Errorf("%w %q: %v", ErrInvalidDomain, d, err)
	}
	return a, nil
}

// labels returns the number of labels of a normalized domain.
func labels(d string) int { return strings.Count(d, ".") + 1 }

// suffix returns the last n labels of d.
func suffix(d string, n int) string {
	for k := labels(d); k > n; k-- {
		_, d, _ = strings.Cut(d, ".")
	}
	return d
}

// parent returns d without its left-most label, or "" for a single label.
func parent(d string) string {
	_, p, ok := strings.Cut(d, ".")
	if !ok {
		return ""
	}
	return p
}
