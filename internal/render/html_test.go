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
	`<p title="{{.S}}">{{.S}}</p><a href="{{.S}}">{{.N}}</a><img src="{{.U}}">` +
		`<td bgcolor="{{.C}}" style="color: {{.C}}; border-top: 1px solid {{.C}};"><title>{{.S}}</title>`))

// refColor is the colour the reference examples print.
const refColor = "#0b57d0"

// built prints s with an HTMLBuilder in the places reference does.
func built(s string, n int, c string) string {
	var h HTMLBuilder
	h.Markup(`<p title="`)
	h.Text(s)
	h.Markup(`">`)
	h.Text(s)
	h.Markup(`</p><a href="`)
	h.URL(s)
	h.Markup(`">`)
	h.Int(n)
	h.Markup(`</a><img src="`)
	h.TrustedURL(htmltemplate.URL(s))
	h.Markup(`"><td bgcolor="`)
	h.Color(c)
	h.Markup(`" style="color: `)
	h.Color(c)
	h.Markup(`; border-top: 1px solid `)
	h.Color(c)
	h.Markup(`;"><title>`)
	h.Text(s)
	h.Markup(`</title>`)
	return h.String()
}

func referenceString(t *testing.T, s string, n int, c string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, reference.Execute(&b, struct {
		S string
		N int
		U htmltemplate.URL
		C string
	}{s, n, htmltemplate.URL(s), c}), "executing the reference template")
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
			got := built(tt.in, 7, refColor)
			assert.Truef(t, strings.HasPrefix(got, tt.want), "HTMLBuilder(%q) = %q; want it to start with %q", tt.in, got, tt.want)
			assert.Equalf(t, referenceString(t, tt.in, 7, refColor), got, "HTMLBuilder(%q) differs from html/template", tt.in)
		})
	}
}

// TestHTMLBuilderTrusted: a checked URL keeps its scheme, and a colour
// that is not one is refused rather than printed.
func TestHTMLBuilderTrusted(t *testing.T) {
	t.Parallel()
	var h HTMLBuilder
	h.TrustedURL("cid:logo.png")
	h.Markup(" ")
	h.URL("cid:logo.png")
	h.Markup(" ")
	h.Color("red;background:url(x)")
	h.Markup(" ")
	h.Color("#0B57D0")
	assert.Equal(t, "cid:logo.png #ZgotmplZ ZgotmplZ #0B57D0", h.String(), "HTMLBuilder")
}

// FuzzHTMLBuilder checks that HTMLBuilder escapes any value, valid UTF-8
// or not, exactly as html/template does.
func FuzzHTMLBuilder(f *testing.F) {
	for _, s := range []string{"", "<b>&amp;\"'+", "javascript:x", "https://a/%41%g%", "\x00\xff\u2028", "Http:/x", "a/b:c"} {
		f.Add(s, 0)
	}
	f.Add("x", -42)
	f.Fuzz(func(t *testing.T, s string, n int) {
		c := Color{uint8(n), uint8(n >> 8), uint8(n >> 16)}.String()
		if got, want := built(s, n, c), referenceString(t, s, n, c); got != want {
			t.Errorf("HTMLBuilder(%q, %d, %s) = %q; html/template prints %q", s, n, c, got, want)
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
