package rendertest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// page wraps body in a well-formed document.
func page(body string) string {
	return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>` + body + `</body></html>`
}

func TestHTMLProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string // want: "" for none, else a substring of a problem
	}{
		{"fine", page(`<table><tr><td><a href="https://x.example/">x</a><img src="cid:logo.png" alt="Logo" width="32" height="32"><br></td></tr></table>`), ""},
		{"unclosed", page(`<p>one<p>two</p>`), "</body> closes <p>"},
		{"out of order", page(`<b><i>x</b></i>`), "</b> closes <i>"},
		{"stray end", page(`x</span>`), "</span> closes <body>"},
		{"self-closing div", page(`<div/>`), "self-closes"},
		{"no lang", `<!DOCTYPE html><html><head><title>t</title></head><body></body></html>`, "no lang"},
		{"img without alt", page(`<img src="https://x.example/a.png" width="40" height="40">`), "has no alt text"},
		{"tracking pixel", page(`<img src="https://t.example/p.gif" alt="x" width="1" height="1">`), "tracking pixel"},
		{"javascript link", page(`<a href="javascript:alert(1)">x</a>`), "does not link to a page"},
		{"script", page(`<script>1</script>`), "<script> has no place"},
		{"stylesheet", `<!DOCTYPE html><html lang="en"><head><link rel="stylesheet" href="https://x.example/a.css"><title>t</title></head><body></body></html>`, "<link> has no place"},
		{"flex", page(`<div style="display: flex;">x</div>`), `"display: flex"`},
		{"grid in style", `<!DOCTYPE html><html lang="en"><head><style>.a{display:grid}</style><title>t</title></head><body></body></html>`, `"display:grid"`},
		{"web font", `<!DOCTYPE html><html lang="en"><head><style>@font-face{font-family:x}</style><title>t</title></head><body></body></html>`, "@font-face"},
		{"background image", page(`<td style="background: url(https://t.example/p.gif)">x</td>`), "url("},
		{"repaired by the parser", page(`<p><div>x</div></p>`), "the parser repaired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := HTMLProblems(tt.src)
			if tt.want == "" {
				assert.Emptyf(t, got, "HTMLProblems(%s)", tt.name)
				return
			}
			assert.Truef(t, strings.Contains(strings.Join(got, "\n"), tt.want), "HTMLProblems(%s) = %q; want a problem with %q", tt.name, got, tt.want)
		})
	}
}
