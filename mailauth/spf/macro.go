package spf

import (
	"strconv"
	"strings"
)

// MaxExpansion bounds the length of a macro expansion (RFC 7208 section 7):
// hostile records repeating %{s} cannot make a check use much memory.
const MaxExpansion = 8 << 10

// maxDigits bounds the value of a DIGIT transformer as it is read, so that
// a long run of digits cannot overflow; a larger value keeps every part, as
// no expanded value has that many.
const maxDigits = 1 << 30

// checkMacroString validates a macro-string (RFC 7208 section 7.1): literal
// characters are visible ASCII except '%', which starts "%%", "%_", "%-" or
// a macro-expand "%{" letter transformers *delimiter "}". The letters c, r
// and t, and spaces, are only allowed in explanation strings (exp,
// explain-string = *( macro-string / SP )).
func checkMacroString(s string, exp bool) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if (c < 0x21 || c > 0x7e) && !(exp && c == ' ') {
				return "invalid character " + strconv.QuoteRune(rune(c)) + " at offset " + strconv.Itoa(i)
			}
			continue
		}
		n, msg := scanMacro(s[i:], exp)
		if msg != "" {
			return msg
		}
		i += n - 1
	}
	return ""
}

// endsWithMacro reports whether the valid macro-string s ends with a
// macro-expand.
func endsWithMacro(s string) bool {
	last := false
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			last = false
			continue
		}
		n, _ := scanMacro(s[i:], true)
		i += n - 1
		last = true
	}
	return last
}

// macro is one parsed macro-expand "%{...}".
type macro struct {
	letter  byte // lower case
	upper   bool // URL-escape the result
	digits  int  // 0: all parts
	reverse bool
	delims  string // empty: "."
}

// scanMacro parses the macro at the start of s (s[0] == '%') and returns its
// length, or a message saying what is wrong.
func scanMacro(s string, exp bool) (int, string) {
	if len(s) < 2 {
		return 0, "'%' at the end of a macro-string"
	}
	switch s[1] {
	case '%', '_', '-':
		return 2, ""
	case '{':
	default:
		return 0, "invalid macro " + strconv.Quote(s[:2])
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, "unterminated macro " + quote(s)
	}
	if _, msg := parseMacro(s[2:end], exp); msg != "" {
		return 0, msg + " in " + quote(s[:end+1])
	}
	return end + 1, ""
}

// parseMacro parses the inside of "%{...}".
func parseMacro(body string, exp bool) (macro, string) {
	var m macro
	if body == "" {
		return m, "missing macro letter"
	}
	c := body[0]
	if 'A' <= c && c <= 'Z' {
		m.upper = true
		c += 'a' - 'A'
	}
	switch c {
	case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
	case 'c', 'r', 't':
		if !exp {
			return m, "macro letter " + strconv.QuoteRune(rune(body[0])) + " outside an explanation"
		}
	default:
		return m, "invalid macro letter " + strconv.QuoteRune(rune(body[0]))
	}
	m.letter = c
	i := 1
	for i < len(body) && isDigit(body[i]) {
		if m.digits < maxDigits {
			m.digits = m.digits*10 + int(body[i]-'0')
		}
		i++
	}
	if i > 1 && m.digits == 0 {
		return m, "zero DIGIT transformer"
	}
	if i < len(body) && (body[i] == 'r' || body[i] == 'R') {
		m.reverse = true
		i++
	}
	for j := i; j < len(body); j++ {
		if !strings.ContainsRune(".-+,/_=", rune(body[j])) {
			return m, "invalid delimiter " + strconv.QuoteRune(rune(body[j]))
		}
	}
	m.delims = body[i:]
	return m, ""
}

// macroValues gives the value of each macro letter.
type macroValues interface {
	macroValue(letter byte) (string, error)
}

// expand expands the macro-string s; exp allows what only explanation
// strings may hold (the letters c, r, t and spaces). It returns s itself
// when s holds no macro.
func expand(s string, v macroValues, exp bool) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	if msg := checkMacroString(s, exp); msg != "" {
		return "", &SyntaxError{Term: s, Msg: msg}
	}
	var stack [256]byte
	b := stack[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
		} else {
			switch s[i+1] {
			case '%':
				b = append(b, '%')
			case '_':
				b = append(b, ' ')
			case '-':
				b = append(b, "%20"...)
			default:
				end := i + strings.IndexByte(s[i:], '}')
				m, _ := parseMacro(s[i+2:end], true)
				val, err := v.macroValue(m.letter)
				if err != nil {
					return "", err
				}
				b = m.apply(b, val)
				i = end
			}
			if s[i] != '}' {
				i++
			}
		}
		if len(b) > MaxExpansion {
			return "", ErrExpansion
		}
	}
	return string(b), nil
}

// apply appends val transformed by m (RFC 7208 section 7.3): split on the
// delimiters, optionally reversed, the right-most digits parts kept, joined
// by dots, URL-escaped for an upper-case letter. It walks val in place and
// reads only the parts it keeps, so the work is that of the output whatever
// the number of parts: a 64 KiB record of %{l1r-} over a long local-part
// costs no more than its few octets of output.
func (m macro) apply(b []byte, val string) []byte {
	if m.digits == 0 && !m.reverse && (m.delims == "" || m.delims == ".") {
		return appendEscaped(b, val, m.upper)
	}
	delims := m.delims
	if delims == "" {
		delims = "."
	}
	if !m.reverse {
		// The right-most digits parts (all when digits is 0 or more than
		// there are), in order: from after the digits-th delimiter from
		// the right.
		if m.digits > 0 {
			end := len(val)
			for range m.digits {
				if end = strings.LastIndexAny(val[:end], delims); end < 0 {
					break
				}
			}
			val = val[end+1:]
		}
		for {
			i := strings.IndexAny(val, delims)
			if i < 0 {
				return appendEscaped(b, val, m.upper)
			}
			b = append(appendEscaped(b, val[:i], m.upper), '.')
			val = val[i+1:]
		}
	}
	// Reversed, the right-most digits parts are the first digits parts of
	// val, last first: up to the digits-th delimiter from the left.
	if m.digits > 0 {
		start := 0
		for range m.digits {
			i := strings.IndexAny(val[start:], delims)
			if i < 0 {
				start = len(val) + 1
				break
			}
			start += i + 1
		}
		val = val[:start-1]
	}
	for {
		i := strings.LastIndexAny(val, delims)
		if i < 0 {
			return appendEscaped(b, val, m.upper)
		}
		b = append(appendEscaped(b, val[i+1:], m.upper), '.')
		val = val[:i]
	}
}

// appendEscaped appends s, URL-escaping every octet outside the unreserved
// set of RFC 3986 when escape is true.
func appendEscaped(b []byte, s string, escape bool) []byte {
	if !escape {
		return append(b, s...)
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
