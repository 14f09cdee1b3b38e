package digest

import (
	"strings"
	"testing"
	"time"
)

func TestMessageID(t *testing.T) {
	t.Parallel()
	day := DateDay(2026, 3, 9)
	t0 := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	lines := collapse([]Item{{Asset: "h", Fingerprint: "1", Time: t0}, {Asset: "h", Fingerprint: "2", Time: t0}})
	tests := []struct{ tenant, want string }{
		{"acme", "digest.2026-03-09.acme."},
		{"Acme_Corp-2", "digest.2026-03-09.Acme_Corp-2."},
		{"a.b", "digest.2026-03-09.a=2Eb."},
		{"a=2Eb", "digest.2026-03-09.a=3D2Eb."}, // '=' is escaped too, so ids never clash
		{"<x@y>\r\n", "digest.2026-03-09.=3Cx=40y=3E=0D=0A."},
		{"ü", "digest.2026-03-09.=C3=BC."},
	}
	for _, tt := range tests {
		got := messageID(tt.tenant, day, lines)
		if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+16 {
			t.Errorf("messageID(%q, %s, 2 lines) = %q; want %q and 16 hex digits", tt.tenant, day, got, tt.want)
		}
	}
	// The same lines give the same ID; other lines, or the same in another
	// order (a different email), another.
	a := messageID("acme", day, lines)
	if b := messageID("acme", day, collapse([]Item{{Asset: "h", Fingerprint: "1", Time: t0}, {Asset: "h", Fingerprint: "2", Time: t0.Add(time.Hour)}})); a != b {
		t.Errorf("messageID of the same lines = %q, then %q; want equal", a, b)
	}
	for _, other := range [][]line{lines[:1], {lines[1], lines[0]}, nil} {
		if b := messageID("acme", day, other); a == b {
			t.Errorf("messageID of %d other lines = %q, the same as for the digest's", len(other), b)
		}
	}
	if b := messageID("acme", day+1, lines); a == b {
		t.Errorf("messageID of another day = %q, the same", b)
	}
}
