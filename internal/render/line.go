package render

import (
	"strings"
	"unicode"
)

// Line returns s as one line of text: every run of control characters and
// white space (CR, LF, NUL, tabs, the Unicode line and paragraph
// separators...) becomes a single space, and the result is trimmed. Use it
// on untrusted one-line data before a template prints it, so that a value
// cannot forge lines of its own in a plain-text part or a header.
func Line(s string) string {
	if _, ok := plainASCII(s, ' '); ok && s != "" && s[len(s)-1] != ' ' {
		return s // the common case, without decoding runes
	}
	clean := true
	for _, r := range s {
		if r != ' ' && (blank(r) || r == unicode.ReplacementChar) {
			clean = false
			break
		}
	}
	if clean && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") && !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if blank(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// blank reports whether r is white space, a control character or a
// bidirectional embedding, override or isolate.
func blank(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// plainASCII reports whether s is printable ASCII with single spaces,
// no space at its start when prev (the byte before it) is a space, and
// returns its last byte (prev when s is empty).
func plainASCII(s string, prev byte) (last byte, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c-' ' > '~'-' ' || c == ' ' && prev == ' ' {
			return prev, false
		}
		prev = c
	}
	return prev, true
}
