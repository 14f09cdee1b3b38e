package smtpnotify

import "mime"

// maxFoldedLine is the length a header line should not exceed (RFC 5322
// section 2.1.1), CRLF excluded.
const maxFoldedLine = 78

// A headerWriter appends header fields folded as RFC 5322 section 2.2.3
// describes: before the white space of a fold point, whenever the line
// would otherwise be longer than 78 octets. The fold points are the white
// space between the mailboxes of an address list and between the words of
// a mailbox outside quoted strings (encoded words, the display name, the
// angle address), and single spaces between two other characters in
// unstructured text, where unfolding gives back exactly what was folded.
// A line is longer than 78 octets only when one unfoldable piece is: an
// address (at most 256 octets with its brackets), a quoted display name
// (at most 514), a word of the text (a subject is at most 900 octets);
// never longer than 998.
//
// smtpnotify writes these fields itself: github.com/jordan-wright/email
// writes each field on one line, and splits From and To at every comma, a
// display name's ("Acme, Inc.") included.
type headerWriter struct {
	b    []byte
	line int  // octets on the current line
	bare bool // the current line holds only the field name
}

// addresses writes field name with mailboxes, each formatted by
// net/mail's Address.String.
func (w *headerWriter) addresses(name string, mailboxes ...string) {
	w.start(name)
	for i, m := range mailboxes {
		sep, trail := ",", 1 // a comma follows all but the last
		if i == 0 {
			sep = ""
		}
		if i == len(mailboxes)-1 {
			trail = 0
		}
		start, quoted := 0, false
		for j := 0; j < len(m); j++ {
			switch c := m[j]; {
			case c == '\\' && quoted:
				j++
			case c == '"':
				quoted = !quoted
			case c == ' ' && !quoted:
				w.word(sep, m[start:j], 0)
				sep, start = "", j+1
			}
		}
		w.word(sep, m[start:], trail)
	}
	w.end()
}

// text writes field name with an unstructured value, RFC 2047 encoded
// when it is not printable ASCII.
func (w *headerWriter) text(name, value string) {
	w.start(name)
	v := mime.QEncoding.Encode("UTF-8", value)
	start := 0
	for i := 1; i+1 < len(v); i++ {
		if v[i] == ' ' && !isWSP(v[i-1]) && !isWSP(v[i+1]) {
			w.word("", v[start:i], 0)
			start = i + 1
		}
	}
	w.word("", v[start:], 0)
	w.end()
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// start begins field name.
func (w *headerWriter) start(name string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, ':')
	w.line, w.bare = len(name)+1, true
}

// end ends the field.
func (w *headerWriter) end() { w.b = append(w.b, '\r', '\n') }

// word appends sep, then a space and word, folding before the space when
// the line would exceed 78 octets and folding can shorten it; trail
// octets will follow word on its line.
func (w *headerWriter) word(sep, word string, trail int) {
	w.b = append(w.b, sep...)
	w.line += len(sep)
	if n := 1 + len(word) + trail; w.line+n > maxFoldedLine && (!w.bare || n <= maxFoldedLine) {
		w.b = append(w.b, '\r', '\n')
		w.line = 0
	}
	w.b = append(w.b, ' ')
	w.b = append(w.b, word...)
	w.line += 1 + len(word)
	w.bare = false
}
