package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ToASCII returns name in lower-case A-label form. U-labels are converted
// with idna.Lookup (UTS #46 mapping, non-transitional, the Bidi rule,
// hyphen and joiner checks, STD3 host-name rules), so "Bücher.Example"
// gives "xn--bcher-kva.example"; an A-label that does not decode, and a
// name that is not valid UTF-8, are refused. A name already in lower- or upper-case LDH form is only
// lower-cased, with the same result idna.Lookup would give, and without
// its allocations.
//
// The labels up to the last one that holds "_" (the attribute labels of
// RFC 8552, such as _dmarc, _spf or the selector and _domainkey of a DKIM
// key name, and the host names with "_" that DNS holds although RFC 1123
// does not allow them) are kept, lower-cased, when they are ASCII: STD3
// rules would refuse them, and no internationalised label holds "_".
// [Normalize] with [Host] refuses them. A trailing dot is kept. ToASCII
// does not check label or name lengths, nor the number of labels:
// [Normalize] does, but for the number of labels.
//
// The error is golang.org/x/net/idna's, which names the bad rune or label;
// callers wrap it with the input and their own prefix. ToASCII is safe for
// concurrent use.
func ToASCII(name string) (string, error) {
	if !utf8.ValidString(name) {
		// idna.Lookup would encode the bytes into an A-label that does not decode.
		return "", fmt.Errorf("idna: invalid UTF-8 in %q", name)
	}
	attr, host := splitAttribute(name)
	if attr != "" && !isASCII(attr) {
		// Not an attribute label after all: let idna say what is wrong.
		attr, host = "", name
	}
	if !plainLDH(host) {
		a, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", err
		}
		host = a
	}
	return strings.ToLower(attr + host), nil
}

// splitAttribute splits name after its last label that holds "_".
func splitAttribute(name string) (attr, host string) {
	i := strings.LastIndexByte(name, '_')
	if i < 0 {
		return "", name
	}
	dot := strings.IndexByte(name[i:], '.')
	if dot < 0 {
		return name, ""
	}
	return name[:i+dot+1], name[i+dot+1:]
}

// plainLDH reports whether idna.Lookup would only lower-case name: every
// label letters, digits and hyphens, not starting or ending with a hyphen
// nor holding "--" in its third and fourth positions (the mark of an
// A-label, which idna must decode to check).
func plainLDH(name string) bool {
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			continue // an empty label (the root) is idna's to judge: Lookup accepts it
		}
		if label[0] == '-' || label[len(label)-1] == '-' || len(label) >= 4 && label[2:4] == "--" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
