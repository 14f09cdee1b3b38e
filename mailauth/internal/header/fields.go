package header

import (
	"bytes"
	"strings"
)

// Fields returns the header fields of msg in order, each "Name: value" as
// written but unfolded (RFC 5322 section 2.2.3): the line break before a
// continuation line, which starts with a space or a tab, is removed and
// its white space kept. Lines may end in CRLF or LF alone. The header ends
// at the first empty line or at the end of msg; a continuation line before
// any field is dropped.
func Fields(msg []byte) []string {
	var fields []string
	var cur strings.Builder
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break // the end of the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur.Len() > 0 {
				cur.Write(line)
			}
			continue
		}
		if cur.Len() > 0 {
			fields = append(fields, cur.String())
			cur.Reset()
		}
		cur.Write(line)
	}
	if cur.Len() > 0 {
		fields = append(fields, cur.String())
	}
	return fields
}

// Values returns the values of the fields of msg named name (compared
// without regard to case), in order, each without the white space around
// it. A line without a colon is no field and never matches.
func Values(msg []byte, name string) []string {
	var vals []string
	for _, f := range Fields(msg) {
		k, v, ok := strings.Cut(f, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}
