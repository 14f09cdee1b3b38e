package header

import (
	"slices"
	"strings"
	"testing"
)

func TestFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want []string
	}{
		{"crlf", "From: a@b.example\r\nTo: c@d.example\r\n\r\nbody: no\r\n", []string{"From: a@b.example", "To: c@d.example"}},
		{"lf", "From: a@b.example\nTo: c@d.example\n\nbody: no\n", []string{"From: a@b.example", "To: c@d.example"}},
		{"folded", "Subject: one\r\n two\r\n\tthree\r\nX: y\r\n", []string{"Subject: one two\tthree", "X: y"}},
		{"no body, no final break", "From: a@b.example", []string{"From: a@b.example"}},
		{"leading continuation dropped", " stray\r\nFrom: a@b.example\r\n", []string{"From: a@b.example"}},
		{"empty", "", nil},
		{"body only", "\r\nFrom: a@b.example\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Fields([]byte(tt.msg)); !slices.Equal(got, tt.want) {
				t.Errorf("Fields(%q) = %q; want %q", tt.msg, got, tt.want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	msg := []byte("From: a@b.example\r\nfrom :  c@d.example \r\nFromage: no\r\nno colon\r\n\r\nFrom: body@x.example\r\n")
	if got, want := Values(msg, "From"), []string{"a@b.example", "c@d.example"}; !slices.Equal(got, want) {
		t.Errorf("Values(From) = %q; want %q", got, want)
	}
	if got := Values(msg, "Reply-To"); got != nil {
		t.Errorf("Values(Reply-To) = %q; want none", got)
	}
}

// FuzzFields: never a panic, no field holds a line break or starts with
// white space, and nothing after the first empty line is read.
func FuzzFields(f *testing.F) {
	for _, s := range []string{"From: a\r\n b\r\n\r\nX: y", "\n", " \r\n", "a\rb\r\n", "From:\r\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fld := range Fields([]byte(s)) {
			if strings.Contains(fld, "\n") || fld == "" || fld[0] == ' ' || fld[0] == '\t' {
				t.Fatalf("Fields(%q) has %q", s, fld)
			}
		}
		if i := strings.Index(s, "\n\n"); i >= 0 {
			if got, head := Fields([]byte(s)), Fields([]byte(s[:i+1])); !slices.Equal(got, head) {
				t.Fatalf("Fields(%q) = %q; want only the header's %q", s, got, head)
			}
		}
	})
}
