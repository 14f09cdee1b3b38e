package render

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, first, rest, in, want string
		width                       int
	}{
		{"fits", "- ", "  ", "short line", "- short line", 72},
		{"breaks at spaces", "", "", "aaa bbb ccc ddd", "aaa bbb\nccc ddd", 7},
		{"hanging indent", "  ", "    ", "one two three four", "  one two\n    three\n    four", 10},
		{"long word alone", "  ", "  ", "see https://console.example.com/a/very/long/path now", "  see\n  https://console.example.com/a/very/long/path\n  now", 20},
		{"collapses spaces", "", "", "  a \t b\n\nc  ", "a b c", 72},
		{"empty", "- ", "  ", "", "-", 72},
		{"only spaces", "  ", "  ", "   ", "", 72},
		{"wide characters count two", "", "", "東京都庁舎", "東京都\n庁舎", 6},
		{"wide then narrow", "", "", "ab東京cd", "ab東\n京cd", 5},
		{"exact width", "", "", "abcd efgh", "abcd efgh", 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Wrap(tt.width, tt.first, tt.rest, tt.in)
			assert.Equalf(t, tt.want, got, "Wrap(%d, %q, %q, %q)", tt.width, tt.first, tt.rest, tt.in)
		})
	}
}

func TestWrapToParts(t *testing.T) {
	t.Parallel()
	for _, parts := range [][]string{
		{"host-01", ": ", "Suspicious process"},
		{"a", "", "b"},
		{"x ", " y"},               // a double space across parts
		{" lead", "ing"},           // a leading space
		{"é", "t", "é"},            // not ASCII
		{strings.Repeat("w ", 40)}, // too long for a line
	} {
		var b strings.Builder
		WrapTo(&b, 20, "  ", "    ", parts...)
		want := Wrap(20, "  ", "    ", strings.Join(parts, ""))
		assert.Equalf(t, want, b.String(), "WrapTo(%q); want Wrap of the joined parts", parts)
	}
}

func FuzzWrap(f *testing.F) {
	f.Add("The quick brown fox jumps over the lazy dog", 10)
	f.Add("東京 https://example.com/x  ", 4)
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = 8 + abs(width)%80
		got := Wrap(width, "- ", "  ", s)
		for i, line := range strings.Split(got, "\n") {
			if strings.HasSuffix(line, " ") && strings.TrimSpace(line) != "" {
				t.Errorf("Wrap(%d, %q) line %d %q ends with a space", width, s, i, line)
			}
			words := strings.Fields(line[min(2, len(line)):]) // after "- " or "  "
			if Width(line) > width && len(words) > 1 && !wideOnly(words) {
				t.Errorf("Wrap(%d, %q) line %d %q is %d columns wide", width, s, i, line, Width(line))
			}
		}
		// No word is lost or changed, only the spaces between them.
		if a, b := strings.Join(strings.Fields(s), ""), strings.Join(strings.Fields(strings.TrimPrefix(got, "-")), ""); a != b {
			t.Errorf("Wrap(%d, %q) = %q; the words differ", width, s, got)
		}
	})
}

// wideOnly reports whether a line's words hold wide characters, which may
// sit beside a narrow run that had nowhere to break.
func wideOnly(words []string) bool {
	for _, w := range words {
		for _, r := range w {
			if wide(r) {
				return true
			}
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestWidth(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "東京": 4, "한국": 4, "🚨": 2, "ｱ": 1} {
		assert.Equalf(t, want, Width(s), "Width(%q)", s)
	}
}
