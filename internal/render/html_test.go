package render

import (
	htmltemplate "html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reference prints s the way html/template does in element text, in a
// quoted attribute and in a quoted href: the behaviour HTMLBuilder must
// reproduce byte for byte.
var reference = htmltemplate.Must(htmltemplate.New("ref").Parse(
	`<p title="{{.S}}">{{.S}}</p><a href="{{.S}}">{{.N}}</a>`))

// built prints s with an HTMLBuilder in the places reference does.
func built(s string, n int) string {
	var h HTMLBuilder
	h.Markup(`<p title="`)
	h.Text(s)
	h.Markup(`">`)
	h.Text(s)
	h.Markup(`</p><a href="`)
	h.URL(s)
	h.Markup(`">`)
	h.Int(n)
	h.Markup(`</a>`)
	return h.String()
}

func referenceString(t *testing.T, s string, n int) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, reference.Execute(&b, struct {
		S string
		N int
	}{s, n}), "executing the reference template")
	return b.String()
}

func TestHTMLBuilder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"plain", `<p title="plain">plain</p><a href="plain">7</a>`},
		{`<script>alert("x")</script>`, `<p title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p><a href="%3cscript%3ealert%28%22x%22%29%3c/script%3e">7</a>`},
		{"javascript:alert(1)", `<p title="javascript:alert(1)">javascript:alert(1)</p><a href="#ZgotmplZ">7</a>`},
		{" JavaScript:x", `<p title=" JavaScript:x"> JavaScript:x</p><a href="#ZgotmplZ">7</a>`},
		{"https://h.example/a b?q=1&r=a+b%2F%zz'", `<p title="https://h.example/a b?q=1&amp;r=a&#43;b%2F%zz&#39;">https://h.example/a b?q=1&amp;r=a&#43;b%2F%zz&#39;</p><a href="https://h.example/a%20b?q=1&amp;r=a&#43;b%2F%25zz%27">7</a>`},
		{"MAILTO:a@b.example", `<p title="MAILTO:a@b.example">MAILTO:a@b.example</p><a href="MAILTO:a@b.example">7</a>`},
		{"a\r\n\x00é\xff", "<p title=\"a\r\n\uFFFDé\xff\">a\r\n\uFFFDé\xff</p><a href=\"a%0d%0a%00%c3%a9%ff\">7</a>"},
		{"/rel:ative", `<p title="/rel:ative">/rel:ative</p><a href="/rel:ative">7</a>`},
		{"%4", `<p title="%4">%4</p><a href="%254">7</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equalf(t, tt.want, built(tt.in, 7), "HTMLBuilder(%q)", tt.in)
			assert.Equalf(t, referenceString(t, tt.in, 7), built(tt.in, 7), "HTMLBuilder(%q) differs from html/template", tt.in)
		})
	}
}

// FuzzHTMLBuilder checks that HTMLBuilder escapes any value, valid UTF-8
// or not, exactly as html/template does.
func FuzzHTMLBuilder(f *testing.F) {
	for _, s := range []string{"", "<b>&amp;\"'+", "javascript:x", "https://a/%41%g%", "\x00\xff\u2028", "Http:/x", "a/b:c"} {
		f.Add(s, 0)
	}
	f.Add("x", -42)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if got, want := built(s, n), referenceString(t, s, n); got != want {
			t.Errorf("HTMLBuilder(%q, %d) = %q; html/template prints %q", s, n, got, want)
		}
	})
}

func TestHTMLBuilderGrowLen(t *testing.T) {
	t.Parallel()
	var h HTMLBuilder
	h.Grow(64)
	h.Markup("<p>")
	h.Text("a&b")
	assert.Equal(t, len("<p>a&amp;b"), h.Len(), "Len")
	assert.Equal(t, "<p>a&amp;b", h.String(), "String")
}
