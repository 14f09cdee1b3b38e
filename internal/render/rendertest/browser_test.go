package rendertest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alertmail/alertmail/internal/browsertest"
)

// recorder is a testing.TB that records the failures of the checks
// instead of failing the test, so that a test can check that they fail.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// TestCheckEmail checks that CheckEmail passes a good email and catches
// each thing it looks for.
func TestCheckEmail(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	const good = `<p style="color: #1d1d1f;">Readable</p><p><a href="https://x.example/a" style="color: #0b57d0;">A link</a></p>`
	tests := []struct {
		name, body, want string // want: "" for no failure
	}{
		{"good", good, ""},
		{"low contrast", `<p style="color: #aaaaaa;">Faint</p>`, `"Faint" is #aaaaaa on #ffffff, a contrast of 2.32:1`},
		{"dark background", `<p style="color: #333333; background: #121212;">Dim</p>`, `"Dim" is #333333 on #121212`},
		{"too wide", `<div style="width: 600px;">Wide</div>`, "scrolls sideways"},
		{"off screen", `<p><a href="https://x.example/off" style="position: relative; left: -200px;">Gone</a></p>`, "is off screen"},
		{"covered", `<p><a href="https://x.example/c">Covered</a></p><div style="position: absolute; top: 0; left: 0; width: 375px; height: 200px; background: #ffffff;"></div>`, "is covered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>` +
				`<body style="margin: 0; background: #ffffff; color: #1d1d1f;">` + tt.body + `</body></html>`
			r := &recorder{TB: t}
			png := CheckEmail(r, b, View{375, browsertest.Light}, src)
			assert.NotEmpty(t, png, "CheckEmail(%s) screenshot", tt.name)
			if tt.want == "" {
				assert.Emptyf(t, r.failures(), "CheckEmail(%s) failures", tt.name)
			} else {
				assert.Containsf(t, r.failures(), tt.want, "CheckEmail(%s) failures", tt.name)
			}
		})
	}
}

func TestParseCSSColor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"rgb(11, 87, 208)": "#0b57d0", "rgba(0, 0, 0, 1)": "#000000"} {
		c, err := parseCSSColor(in)
		if assert.NoErrorf(t, err, "parseCSSColor(%q)", in) {
			assert.Equalf(t, want, c.String(), "parseCSSColor(%q)", in)
		}
	}
	for _, in := range []string{"rgba(0, 0, 0, 0.5)", "color(srgb 1 0 0)", "rgb(1, 2)", "rgb(300, 0, 0)"} {
		_, err := parseCSSColor(in)
		assert.Errorf(t, err, "parseCSSColor(%q)", in)
	}
}
