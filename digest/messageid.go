package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// messageID returns the [alerts.Message] ID of tenant's digest of day
// listing lines: "digest.", the date, ".", the tenant id with every byte
// other than an ASCII letter, digit, '-' or '_' written as '=' and two hex
// digits, ".", and 16 hex digits of a SHA-256 of the lines' keys in order.
// The escaping is one-to-one, so no two tenants share an ID, and the result
// is valid in the local part of a Message-ID.
//
// A retry of a digest reads the same pending items, so its lines come in
// the same order and it gets the same ID; a retry that gained lines gets
// another, since it is a different email.
func messageID(tenant string, day Day, lines []line) string {
	const digits = "0123456789ABCDEF"
	h := sha256.New()
	for i := range lines {
		h.Write(lines[i].key[:])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])

	var b strings.Builder
	b.Grow(len("digest.2026-03-09..") + len(tenant)*3 + 16)
	b.WriteString("digest.")
	b.WriteString(day.String())
	b.WriteByte('.')
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	b.WriteByte('.')
	b.WriteString(hex.EncodeToString(sum[:8]))
	return b.String()
}
