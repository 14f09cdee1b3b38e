package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Syntax is what the labels of a name may hold: the two variants of a
// domain name that mail uses.
type Syntax uint8

const (
	// Host is a host name (RFC 1123 section 2.1, RFC 5321 section 4.1.2):
	// labels of letters, digits and hyphens, with no hyphen first or last.
	// The domain of a mail address, an EHLO name and a DKIM signing domain
	// are host names.
	Host Syntax = iota
	// DNS is a DNS name that may also hold "_": the attribute labels of RFC
	// 8552 (_dmarc, _spf, _domainkey), DKIM selectors, and the names DNS
	// holds although RFC 1123 forbids them, such as the domains of mail a
	// receiver evaluates. Hyphens follow the rule of Host.
	DNS
)

// Limits of RFC 1035 section 2.3.4, in octets of the dotted text form: a
// 255-octet wire name holds at most 253 octets of text.
const (
	MaxLabel = 63
	MaxName  = 253
)

// Normalize returns name, a domain name of syntax s, in lower-case A-label
// form. U-labels are accepted and converted as [ToASCII] does, before the
// checks of [Check]; the result is at most [MaxName] octets. A trailing dot
// is refused: a caller that accepts an absolute name drops it first.
func Normalize(name string, s Syntax) (string, error) {
	a, err := ToASCII(name)
	if err != nil {
		return "", err
	}
	if err := Check(a, s); err != nil {
		return "", err
	}
	return a, nil
}

// Check reports why name, taken as it is, is not a domain name of syntax
// s, or nil. It converts nothing: a U-label is refused (its A-label is
// needed) and letters may be of either case. It applies the rules of
// [CheckLength] too.
func Check(name string, s Syntax) error {
	if err := CheckLength(name); err != nil {
		return err
	}
	for label := range strings.SplitSeq(name, ".") {
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			switch c := label[i]; {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			case c == '_' && s == DNS:
			case c >= 0x80:
				return fmt.Errorf("label %q is not ASCII; give its A-label (xn--)", label)
			default:
				return fmt.Errorf("character %q in label %q", c, label)
			}
		}
	}
	return nil
}

// CheckLength reports why name breaks the length rules of a domain name,
// or nil: labels of 1 to [MaxLabel] octets, at most [MaxName] octets in
// all, and so no trailing dot. Their octets are not checked, as RFC 2181
// section 11 allows any, for the names SPF macro expansion builds (RFC
// 7208 sections 4.3 and 7.3).
func CheckLength(name string) error {
	switch {
	case name == "":
		return errors.New("is empty")
	case len(name) > MaxName:
		return fmt.Errorf("longer than %d octets", MaxName)
	}
	for rest := name; ; {
		label, next, more := strings.Cut(rest, ".")
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > MaxLabel:
			return fmt.Errorf("label %q longer than %d octets", label, MaxLabel)
		case !more:
			return nil
		}
		rest = next
	}
}

// String returns "host" or "DNS".
func (s Syntax) String() string {
	if s == DNS {
		return "DNS"
	}
	return "host"
}
