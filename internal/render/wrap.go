package render

import (
	"strings"
	"unicode/utf8"
)

// TextWidth is the width the plain-text parts are wrapped at, in columns:
// what every mail client and terminal shows without wrapping again.
const TextWidth = 72

// Wrap returns s, one line of text (see [Line]), wrapped at width columns:
// the first line starts with first, the others with rest. Lines break at
// spaces, and between the characters of scripts written without spaces
// (CJK), which count two columns. A word longer than a line (a link) is
// never broken: it gets a line of its own. The result has no trailing
// space and no final newline; when s has no words, it is first without
// its trailing spaces.
func Wrap(width int, first, rest, s string) string {
	var b strings.Builder
	b.Grow(len(first) + len(s) + len(s)/max(width, 1)*(len(rest)+1))
	WrapTo(&b, width, first, rest, s)
	return b.String()
}

// WrapTo writes [Wrap] of the concatenation of parts to b, without
// building the concatenation when it fits on the first line as it is.
func WrapTo(b *strings.Builder, width int, first, rest string, parts ...string) {
	if fits(width-len(first), parts) {
		b.WriteString(first)
		for _, p := range parts {
			b.WriteString(p)
		}
		return
	}
	wrapTo(b, width, first, rest, strings.Join(parts, ""))
}

// fits reports whether the concatenation of parts is at most n bytes of
// printable ASCII with single spaces between words, not at either end: a
// line Wrap leaves as it is. (A byte is at most one column.)
func fits(n int, parts []string) bool {
	prev := byte(' ') // a space before the start: no leading space
	size := 0
	for _, p := range parts {
		if size += len(p); size > n {
			return false
		}
		var ok bool
		if prev, ok = plainASCII(p, prev); !ok {
			return false
		}
	}
	return size > 0 && prev != ' '
}

// wrapTo writes Wrap(width, first, rest, s) to b.
func wrapTo(b *strings.Builder, width int, first, rest, s string) {
	col, empty := Width(first), true
	for word := range strings.FieldsSeq(s) {
		if empty {
			b.WriteString(first)
		}
		space := !empty
		for word != "" {
			piece := nextPiece(word)
			word = word[len(piece):]
			w := Width(piece)
			gap := 0
			if space {
				gap = 1
			}
			if !empty && col+gap+w > width {
				b.WriteByte('\n')
				b.WriteString(rest)
				col, gap = Width(rest), 0
			}
			if gap == 1 {
				b.WriteByte(' ')
			}
			b.WriteString(piece)
			col += gap + w
			empty, space = false, false
		}
	}
	if empty {
		b.WriteString(strings.TrimRight(first, " "))
	}
}

// nextPiece returns the start of word up to the next place a line may
// break inside it: one wide character, or the run of other characters
// before the next wide one.
func nextPiece(word string) string {
	r, n := utf8.DecodeRuneInString(word)
	if wide(r) {
		return word[:n]
	}
	for i, r := range word {
		if wide(r) {
			return word[:i]
		}
	}
	return word
}

// Width returns the number of columns s takes in a monospaced font: two
// for a wide (East Asian) character, one for any other.
func Width(s string) int {
	n := 0
	for _, r := range s {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

// wide reports whether r is shown two columns wide: the CJK, Hangul,
// fullwidth and emoji blocks, near enough to Unicode's East Asian Width
// for wrapping.
func wide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115f, // Hangul Jamo
		0x2e80 <= r && r <= 0xa4cf && r != 0x303f, // CJK radicals to Yi
		0xac00 <= r && r <= 0xd7a3,                // Hangul syllables
		0xf900 <= r && r <= 0xfaff,                // CJK compatibility ideographs
		0xfe30 <= r && r <= 0xfe4f,                // CJK compatibility forms
		0xff00 <= r && r <= 0xff60,                // fullwidth forms
		0xffe0 <= r && r <= 0xffe6,
		0x1f300 <= r && r <= 0x1f64f, // pictographs, emoticons
		0x1f680 <= r && r <= 0x1f6ff, // transport and map symbols
		0x1f900 <= r && r <= 0x1f9ff,
		0x20000 <= r && r <= 0x3fffd: // CJK extensions
		return true
	}
	return false
}
