package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"", ""},
		{"a\r\nBcc: x@evil.example", "a Bcc: x@evil.example"},
		{"  lead and trail \t", "lead and trail"},
		{"nul\x00byte", "nul byte"},
		{"many   spaces", "many spaces"},
		{"line\u2028sep\u2029para\u0085nel", "line sep para nel"},
		{"rtl\u202egnp.exe", "rtl gnp.exe"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"<script>\"q\"</script>", "<script>\"q\"</script>"},
		{"émoji 🚨 ok", "émoji 🚨 ok"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzLine(f *testing.F) {
	f.Add("a\r\nb")
	f.Add(" \x00\u202e ")
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Line(%q) = %q; not valid UTF-8", s, got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r != ' ' && blank(r) }) {
			t.Errorf("Line(%q) = %q; holds a control or space character", s, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Errorf("Line(%q) = %q; not trimmed and collapsed", s, got)
		}
		if Line(got) != got {
			t.Errorf("Line(Line(%q)) = %q; want %q", s, Line(got), got)
		}
	})
}
