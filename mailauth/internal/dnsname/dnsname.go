package dnsname

import (
	"strings"

	"github.com/alertmail/alertmail/internal/domain"
)

// Valid reports whether name (with or without a trailing dot) can be sent in
// a query: the length rules of [domain.CheckLength]. Any octet other than
// '.' is legal in a label.
func Valid(name string) bool {
	return domain.CheckLength(strings.TrimSuffix(name, ".")) == nil
}

// Text turns a raw name into the fully qualified text form
// github.com/miekg/dns packs: only the backslash needs an escape, every
// other octet is copied as it is.
func Text(name string) string {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	if !strings.Contains(name, `\`) {
		return name
	}
	return strings.ReplaceAll(name, `\`, `\\`)
}

// Raw turns text as github.com/miekg/dns unpacks it (names and TXT strings,
// with "\X" and "\DDD" escapes) back into raw octets.
func Raw(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			b = append(b, (s[i]-'0')*100+(s[i+1]-'0')*10+(s[i+2]-'0'))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Equal compares two raw names case-insensitively (ASCII), ignoring a
// trailing dot.
func Equal(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
