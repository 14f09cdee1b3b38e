package alerts

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	idn "github.com/alertmail/alertmail/internal/domain"
)

// Errors about recipients. A [RecipientError] wraps one of them.
var (
	// ErrInvalidRecipient means an entry is not an acceptable mailbox.
	ErrInvalidRecipient = errors.New("alerts: invalid recipient")
	// ErrTooManyRecipients means a list holds more distinct addresses than
	// the maximum.
	ErrTooManyRecipients = errors.New("alerts: too many recipients")
)

// A RecipientError reports a rejected recipient entry: which one, where it
// was in the list, and why. Err is [ErrInvalidRecipient] or
// [ErrTooManyRecipients].
type RecipientError struct {
	// Index is the entry's position in the list, from 0; -1 when the entry
	// was not part of a list ([ParseRecipient]).
	Index int
	// Input is the entry as given.
	Input string
	// Reason says what is wrong, for people.
	Reason string
	// Err is the sentinel.
	Err error
}

// Error describes the problem, naming the input.
func (e *RecipientError) Error() string {
	what := "invalid recipient"
	if e.Err == ErrTooManyRecipients {
		what = "too many recipients"
	}
	if e.Index < 0 {
		return fmt.Sprintf("alerts: %s %q: %s", what, e.Input, e.Reason)
	}
	return fmt.Sprintf("alerts: %s at position %d, %q: %s", what, e.Index+1, e.Input, e.Reason)
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *RecipientError) Unwrap() error { return e.Err }

// Limits of RFC 5321 section 4.5.3.1.
const (
	maxLocalLen   = 64
	maxAddressLen = 254
)

// ParseRecipients validates and normalises a recipient list, as entered on
// the "Manage Email Settings" screen. Each entry must be one bare address
// (see [ParseRecipient]). Entries that normalise to the same address count
// once; the first is kept. Since normalising lower-cases the domain, its
// case does not matter; the local part's does: "a@example.com" and
// "A@EXAMPLE.COM" are two recipients. RFC 5321 section 2.4 makes local
// parts case-sensitive, and a server may deliver them to two mailboxes:
// merging them could silently drop one, where keeping both costs at worst
// a second copy of each email, which the tenant sees in the list and can
// remove. More than max distinct addresses is an error; max <= 0 means
// [DefaultMaxRecipients].
//
// On error it returns nil and a *[RecipientError] naming the first bad
// entry and its position: a list is accepted whole or not at all. An empty
// list is valid and yields nil.
func ParseRecipients(list []string, max int) ([]string, error) {
	if max <= 0 {
		max = DefaultMaxRecipients
	}
	var out []string
	seen := make(map[string]bool, min(len(list), max))
	for i, entry := range list {
		addr, reason := normaliseRecipient(entry)
		if reason != "" {
			return nil, &RecipientError{Index: i, Input: entry, Reason: reason, Err: ErrInvalidRecipient}
		}
		if seen[addr] {
			continue
		}
		if len(out) == max {
			return nil, &RecipientError{Index: i, Input: entry,
				Reason: fmt.Sprintf("the maximum is %d distinct addresses", max), Err: ErrTooManyRecipients}
		}
		seen[addr] = true
		out = append(out, addr)
	}
	return out, nil
}

// ParseRecipient validates one recipient address and returns its normal
// form. The address is checked by [net/mail.ParseAddress] (RFC 5322) and
// must moreover be a bare addr-spec, local@domain, because a recipient list
// is a list of addresses and nothing else:
//
//   - no display name, comment or angle brackets ("Bob <b@x.com>" could show
//     one address and send to another);
//   - no group syntax ("team: a@x.com, b@x.com;") and no list;
//   - no CR, LF or other control character anywhere, quoted local parts
//     included (header injection), and no invisible formatting character
//     (bidi overrides, zero-width spaces) that could make it read as
//     another address;
//   - no domain literal ("a@[192.0.2.1]"); the domain must have at least two
//     labels, each a valid hostname label;
//   - RFC 5321 lengths: local part 64 octets, domain 253, address 254.
//
// Spaces around the entry are dropped. The domain is lower-cased and an
// internationalised domain is converted to its ASCII form (IDNA 2008, UTS
// #46 lookup profile), so "Ops@Bücher.Example" becomes
// "Ops@xn--bcher-kva.example". The local part keeps its case; it is quoted
// only if it must be.
//
// The error is a *[RecipientError] wrapping [ErrInvalidRecipient], with
// Index -1.
func ParseRecipient(s string) (string, error) {
	addr, reason := normaliseRecipient(s)
	if reason != "" {
		return "", &RecipientError{Index: -1, Input: s, Reason: reason, Err: ErrInvalidRecipient}
	}
	return addr, nil
}

// normaliseRecipient returns the normal form of s, or why s is rejected.
func normaliseRecipient(s string) (addr, reason string) {
	if !utf8.ValidString(s) {
		return "", "not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n':
			return "", "holds a line break (CR or LF)"
		case unicode.IsControl(r):
			return "", fmt.Sprintf("holds control character %U", r)
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			// Bidi overrides and zero-width characters can make an
			// address read as another one.
			return "", fmt.Sprintf("holds invisible formatting character %U", r)
		}
	}
	s = strings.Trim(s, " ")
	if s == "" {
		return "", "empty address"
	}
	if len(s) > maxAddressLen*4 {
		// Far too long for any address; don't spend effort parsing it.
		return "", fmt.Sprintf("longer than %d octets", maxAddressLen)
	}
	_, domain, reason := splitAddrSpec(s)
	if reason != "" {
		return "", reason
	}
	ascii, reason := normaliseDomain(domain)
	if reason != "" {
		return "", reason
	}
	parsed, err := mail.ParseAddress(s)
	if err != nil {
		return "", "not an RFC 5322 address: " + strings.TrimPrefix(err.Error(), "mail: ")
	}
	if parsed.Name != "" {
		return "", "display names are not allowed"
	}
	// Rebuild the address from the parsed local part, so that quoting is
	// minimal and canonical: "\"bob\"@x" and "bob@x" are the same mailbox.
	at := strings.LastIndexByte(parsed.Address, '@')
	quoted := (&mail.Address{Address: parsed.Address[:at] + "@" + ascii}).String()
	addr = quoted[1 : len(quoted)-1] // String wraps a nameless address in <>
	if local := addr[:strings.LastIndexByte(addr, '@')]; len(local) > maxLocalLen {
		return "", fmt.Sprintf("local part longer than %d octets", maxLocalLen)
	}
	if len(addr) > maxAddressLen {
		return "", fmt.Sprintf("longer than %d octets", maxAddressLen)
	}
	return addr, ""
}

// splitAddrSpec splits s into a local part (a dot-atom or a quoted string)
// and a domain, rejecting anything else with a reason that names the
// construct: display names, angle brackets, comments, groups, lists,
// domain literals.
func splitAddrSpec(s string) (local, domain, reason string) {
	var (
		seen     [128]bool // special characters seen outside quotes
		at       = -1
		ats      = 0
		inQuote  = false
		badQuote = false
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inQuote {
			switch c {
			case '\\':
				i++
			case '"':
				inQuote = false
				if i+1 < len(s) && s[i+1] != '@' {
					badQuote = true
				}
			}
			continue
		}
		switch c {
		case '"':
			if i != 0 {
				badQuote = true
			}
			inQuote = true
		case '@':
			at, ats = i, ats+1
		default:
			if c < 128 {
				seen[c] = true
			}
		}
	}
	switch {
	case inQuote:
		return "", "", "unterminated quoted local part"
	case seen['<'] || seen['>']:
		return "", "", "display names and angle brackets are not allowed"
	case seen[':'] || seen[';']:
		return "", "", "group syntax is not allowed"
	case seen['('] || seen[')']:
		return "", "", "comments are not allowed"
	case seen[',']:
		return "", "", "one address per entry"
	case seen['['] || seen[']']:
		return "", "", "domain literals are not allowed"
	case badQuote:
		return "", "", "quotes are only allowed around the whole local part"
	case seen[' '] || seen['\\']:
		return "", "", "spaces and backslashes are only allowed in a quoted local part"
	case ats == 0:
		return "", "", "missing @"
	case ats > 1:
		return "", "", "more than one @ outside quotes"
	case at == 0:
		return "", "", "empty local part"
	case at == len(s)-1:
		return "", "", "empty domain"
	}
	return s[:at], s[at+1:], ""
}

// normaliseDomain returns the lower-case ASCII form of an (internationalised)
// domain, or why it is rejected: a mail domain is a host name (RFC 5321
// section 4.1.2) of at least two labels.
func normaliseDomain(domain string) (ascii, reason string) {
	ascii, err := idn.Normalize(domain, idn.Host) // idna.Lookup, shared with mailauth
	if err != nil {
		return "", fmt.Sprintf("domain %q: %v", domain, err)
	}
	if !strings.Contains(ascii, ".") {
		return "", fmt.Sprintf("domain %q needs at least two labels", domain)
	}
	return ascii, ""
}
